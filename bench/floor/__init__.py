"""The floor: the least a Channels app can do with a webhook.

A bare Channels app on the same Daphne and the same Redis PubSub channel layer
that only fans each webhook's body out to every connected socket: no database,
no authentication, no Django views. The harness runs the same load against it
and reports the product's figures as ratios to these.
"""
