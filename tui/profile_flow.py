"""The profile switcher's flow (ctrl+o or the palette): pick a profile, connect off the UI thread, then hand the
new session to the App, which swaps reader, actions and settings without a restart."""

from __future__ import annotations

from textual import on, work
from textual.app import App

from tui.messages import ProfileFailed, ProfileOpened
from tui.protocols import ProfileOpener, Session
from tui.screens.profiles import ProfileScreen


class ProfileFlow(App[None]):
    """Mixed into the App: the switcher's key, its modal, the connecting worker and the two outcomes."""

    profiles: ProfileOpener | None = None
    """Opens the config file's profiles; None when it has none (the key is then hidden)."""

    async def use_session(self, session: Session) -> None:
        """Read and write through ``session`` from now on (the App's own)."""
        raise NotImplementedError

    def action_switch_profile(self) -> None:
        """Offer the profiles; the picked one connects in a thread and replaces the current connection."""
        if self.profiles is None:
            self.notify("No profiles: add [profile.NAME] tables to the config file.", severity="warning")
            return
        if getattr(self, "_flow_busy", False) or any(worker.group == "action" and worker.is_running
                                                     for worker in self.workers):
            self.notify("An action is running: switch profile once it has finished.", severity="warning")
            return
        current = getattr(getattr(self, "settings", None), "profile", None)
        self.push_screen(ProfileScreen(self.profiles.names(), current), self._profile_chosen)

    def _profile_chosen(self, name: str | None) -> None:
        """Connect to the picked profile (nothing when the switcher was closed)."""
        if name:
            self.notify(f"Connecting with profile {name}…", timeout=3)
            self._open_profile(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="profile")
    def _open_profile(self, name: str) -> None:
        """Connect and PING off the UI thread, then post the session or the one-line reason it failed."""
        opener = self.profiles
        assert opener is not None
        try:
            session = opener.open(name)
        except Exception as exc:  # a refused connection must never take the dashboard down
            self.post_message(ProfileFailed(" ".join(str(exc).split()) or type(exc).__name__))
        else:
            self.post_message(ProfileOpened(session, name))

    @on(ProfileOpened)
    async def _profile_opened(self, message: ProfileOpened) -> None:
        """Switch to the new session and say so."""
        session: Session = message.session
        await self.use_session(session)
        self.notify(f"Profile {message.name}: {session.url_label}", title="Switched profile", timeout=5)

    @on(ProfileFailed)
    def _profile_failed(self, message: ProfileFailed) -> None:
        """Keep the current connection and say why the other one failed."""
        self.notify(f"{message.error}\nStill connected as before.", title="Profile not switched",
                    severity="error", timeout=10)


__all__ = ["ProfileFlow"]
