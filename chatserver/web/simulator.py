"""The phone simulator page, ``/simulator/``: text the company as a lead.

A development tool for staff. It shows the simulated phones of the
organisation's leads (and any number typed in), each with its thread as the
phone sees it, and sends a phone's text into the server the way a carrier
does: the simulated network POSTs it, signed, to ``/carriers/simulator/inbound``
(``carriers.phone_network.text_company``). Nothing here writes domain rows.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from carriers import phone_network, simulator
from carriers.base import InvalidNumber, normalize_number
from chatserver.models import ContactNumber, Organisation, SenderNumber

MAX_BODY = 1600  # what a carrier takes in one (concatenated) text


def forbidden(reason: str) -> HttpResponse:
    return HttpResponse(reason + "\n", status=403, content_type="text/plain")


def staff_only(view):
    """Logged-in staff with an agent seat; others get a 403 (or the login)."""

    @login_required
    def wrapped(request: HttpRequest, *args, **kwargs):
        agent = getattr(request.user, "agent", None)
        # Answered, not raised: a raised PermissionDenied is logged with a
        # traceback, and an agent's curious click is no server error.
        if not request.user.is_staff:
            return forbidden("The simulator is for staff.")
        if agent is None:
            return forbidden("This login has no agent seat.")
        return view(request, agent.organisation, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def company_numbers(organisation: Organisation) -> list[str]:
    """The organisation's sender numbers on the simulated network."""
    return list(
        SenderNumber.objects.filter(
            organisation=organisation, carrier=simulator.SimulatorAdapter.name
        )
        .order_by("number")
        .values_list("number", flat=True)
    )


def phones(organisation: Organisation, companies: list[str]) -> list[dict]:
    """Every phone to show: the leads' numbers, then any other number that
    texted or was texted by one of the company numbers."""
    modes, messages = phone_network.network().state()
    labels: dict[str, list[str]] = {}
    numbers = ContactNumber.objects.filter(organisation=organisation).prefetch_related(
        "contact__leads"
    )
    for number in numbers:
        names = labels.setdefault(number.number, [])
        names.extend(lead.name for lead in number.contact.leads.all())
    counts: dict[str, int] = {}
    for message in messages:
        if message["company"] in companies:
            counts[message["phone"]] = counts.get(message["phone"], 0) + 1
            labels.setdefault(message["phone"], [])
    return [
        {
            "number": number,
            "label": ", ".join(dict.fromkeys(names)) or "Unknown number",
            "mode": modes.get(number, phone_network.DEFAULT_MODE),
            "messages": counts.get(number, 0),
        }
        for number, names in sorted(labels.items())
    ]


def thread(phone: str, companies: list[str]) -> list[dict]:
    """The texts one phone sent to or got from the company numbers, with the
    pictures the phone has (``media``: their URLs on this page's server)."""
    return [
        {
            "id": message["id"],
            "direction": message["direction"],
            "company": message["company"],
            "body": message["body"],
            "status": message["status"],
            "detail": message["detail"],
            "at": message["at"],
            "media": [
                {
                    "url": reverse("simulator-media", args=[item["id"]]),
                    "content_type": item["content_type"],
                }
                for item in message.get("media") or []
            ],
            "media_problem": message.get("media_problem", ""),
        }
        for message in phone_network.network().messages(phone)
        if message["company"] in companies
    ]


def phone_state(phone: str, companies: list[str]) -> dict:
    """What the page shows of one phone (the JSON the page polls)."""
    return {
        "phone": phone,
        "mode": phone_network.network().mode(phone) if phone else phone_network.DEFAULT_MODE,
        "messages": thread(phone, companies) if phone else [],
    }


def selected_phone(raw: str) -> tuple[str, str]:
    """The phone a request names, in E.164, and an error if it is not one."""
    raw = (raw or "").strip()
    if not raw:
        return "", ""
    try:
        return normalize_number(raw), ""
    except InvalidNumber:
        return "", f"{raw!r} is not a valid phone number."


def inbound_webhook_url(request: HttpRequest) -> str:
    """Where the network delivers a phone's text: our public inbound webhook."""
    path_ = reverse(
        "carrier-webhook", args=(simulator.SimulatorAdapter.name, "inbound")
    )
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path_
    return request.build_absolute_uri(path_)


def page_url(phone: str) -> str:
    return reverse("simulator") + ("?" + urlencode({"phone": phone}) if phone else "")


@require_GET
@staff_only
def page(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The simulator page; ``?phone=`` selects a phone (any number may be typed)."""
    phone, error = selected_phone(request.GET.get("phone", ""))
    return render_page(request, organisation, phone, error=error)


def render_page(
    request, organisation, phone, error="", body="", status=200, typed_phone=""
):
    companies = company_numbers(organisation)
    return render(
        request,
        "chatserver/simulator.html",
        {
            "organisation": organisation,
            "companies": companies,
            "phones": phones(organisation, companies),
            "phone": phone,
            "state": phone_state(phone, companies),
            "modes": phone_network.MODES.items(),
            "error": error,
            "body": body,
            "typed_phone": typed_phone or phone,
            "max_body": MAX_BODY,
        },
        status=status,
    )


@require_GET
@staff_only
def state(request: HttpRequest, organisation: Organisation) -> JsonResponse:
    """One phone's mode and thread, for the page to refresh itself."""
    phone, error = selected_phone(request.GET.get("phone", ""))
    if error:
        return JsonResponse({"error": error}, status=400)
    companies = company_numbers(organisation)
    return JsonResponse(
        {**phone_state(phone, companies), "phones": phones(organisation, companies)}
    )


@require_POST
@staff_only
def text(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """The selected phone texts a company number."""
    phone, error = selected_phone(request.POST.get("phone", ""))
    company = request.POST.get("company", "")
    body = request.POST.get("body", "")
    companies = company_numbers(organisation)
    # A picture makes it an MMS (the phone's camera, or any image file).
    pictures = request.FILES.getlist("image")
    if not error and not phone:
        error = "Choose or type the phone that texts."
    if not error and company not in companies:
        error = "Choose one of the company's simulator numbers to text."
    if not error and not body.strip() and not pictures:
        error = "Type a text first."
    if not error and len(body) > MAX_BODY:
        error = f"Too long: {len(body)} of {MAX_BODY} characters."
    if not error and len(pictures) > simulator.MAX_MEDIA:
        error = f"A phone sends at most {simulator.MAX_MEDIA} pictures at once."
    if not error and sum(p.size for p in pictures) > settings.MMS_MAX_BYTES:
        error = "The pictures are larger than a carrier takes in one text (5 MB)."
    if error:
        # Show the form again with what was typed: nothing is lost.
        typed = request.POST.get("phone", "")
        return render_page(
            request, organisation, phone, error, body, status=400, typed_phone=typed
        )
    # Whatever the phone sends goes to the company as sent: the server, not
    # the phone, decides what it accepts.
    media = [(p.read(), p.content_type or "") for p in pictures]
    phone_network.text_company(
        phone, company, body, inbound_webhook_url(request), media=media
    )
    return redirect(page_url(phone))


@require_POST
@staff_only
def mode(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    """Make the network treat texts to the selected phone another way."""
    phone, error = selected_phone(request.POST.get("phone", ""))
    chosen = request.POST.get("mode", "")
    if not error and not phone:
        error = "Choose or type a phone first."
    if not error and chosen not in phone_network.MODES:
        error = f"Unknown mode {chosen!r}."
    if error:
        return render_page(request, organisation, phone, error, status=400)
    phone_network.network().set_mode(phone, chosen)
    return redirect(page_url(phone))


@require_GET
@staff_only
def media(request: HttpRequest, organisation: Organisation, media_id: str):
    """A picture on the simulated network, for the page to show."""
    found = phone_network.network().media_file(media_id)
    if found is None:
        return HttpResponse("No such picture.\n", status=404, content_type="text/plain")
    path_, content_type = found
    if content_type not in ("image/jpeg", "image/png", "image/gif", "image/webp"):
        content_type = "application/octet-stream"
    response = FileResponse(path_.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # The page redraws the thread every second: no refetch each time.
    response["Cache-Control"] = "private, max-age=3600"
    return response


urlpatterns = [
    path("", page, name="simulator"),
    path("media/<str:media_id>", media, name="simulator-media"),
    path("state", state, name="simulator-state"),
    path("text", text, name="simulator-text"),
    path("mode", mode, name="simulator-mode"),
]
