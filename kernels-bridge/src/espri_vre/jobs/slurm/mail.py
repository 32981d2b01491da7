"""Whether a Slurm cluster sends job e-mail: its MailProg, read from `scontrol show config`.

A cluster whose configuration leaves `mail` unset lets jobs ask for e-mail when slurmctld has a
MailProg; 22.05 prints '(null)' for one set empty."""

from __future__ import annotations

SCONTROL_CONFIG_ARGV = ("scontrol", "show", "config")
NO_MAIL_PROG = "Slurm's MailProg is not set (scontrol show config)"


def parse_mail_prog(config: str) -> str | None:
    """MailProg from `scontrol show config` ('MailProg                = /usr/bin/mail'): the
    program, '' when Slurm has none, None when the output does not say (not this command's)."""
    for line in config.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "MailProg":
            value = value.strip()
            return "" if value in ("", "(null)") else value
    return None
