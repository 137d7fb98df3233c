from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from executor.browser.profile import load_profile, render
from executor.browser.session import BrowserSession, FlowError
from executor.health import venue_session_record
from executor.models import ExchangeAccount


class Command(BaseCommand):
    help = (
        "Log a browser exchange account in and keep the login on disk for the browser worker. "
        "By default opens a visible browser on the venue's login page for a person to log in "
        "(captcha, SMS, hardware key); --auto logs in with the stored username, password and TOTP."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("account", help="The exchange account's label (or id).")
        parser.add_argument("--auto", action="store_true", help="Log in with the stored secrets, headless.")

    def handle(self, *args, account: str, auto: bool, **options) -> None:
        row = ExchangeAccount.objects.filter(label=account).first() or (
            ExchangeAccount.objects.filter(pk=account).first() if account.isdigit() else None
        )
        if row is None:
            raise CommandError(f"no exchange account labelled {account!r}")
        if row.connector != "browser":
            raise CommandError(f"{row.label} uses the {row.connector} connector, not the browser")
        if not auto:
            settings.BROWSER_HEADLESS = False
        session = BrowserSession(row.config(), load_profile(row.venue))
        try:
            if auto:
                session.login()
            else:
                page = session.ensure()
                page.goto(render(session.profile.urls["login"], {"base_url": session.base_url}))
                input("Log in in the browser window, then press Enter here... ")
                session.save_login()
        except FlowError as error:
            venue_session_record(account_id=row.pk, state=session.state, detail=error.message)
            raise CommandError(f"login failed: {error.message}") from None
        finally:
            state = session.state
            session.close()
        venue_session_record(account_id=row.pk, state=state, detail="logged in with executor_login")
        self.stdout.write(f"{row.label}: logged in; the login is kept in {session.storage_path}")
