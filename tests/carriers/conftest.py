"""The carrier contract's parameters come from each gateway's kit."""


def pytest_generate_tests(metafunc):
    """Run a contract test taking ``refusal`` once per forgery its gateway
    refuses (``Gateway.refusals``): no gateway runs a case that is not its."""
    if "refusal" in metafunc.fixturenames and metafunc.cls is not None:
        metafunc.parametrize("refusal", metafunc.cls.gateway_class.refusals)
