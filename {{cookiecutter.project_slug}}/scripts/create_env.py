"""Create the git-ignored .env from .env.example, with fresh secrets (run by the
template's hook and `make install`; standard library only)."""

import secrets
import sys
from pathlib import Path

# Variables of .env.example that get a freshly generated value.
GENERATED = {
    "DJANGO_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "POSTGRES_PASSWORD": lambda: secrets.token_urlsafe(24),
}


def render(example: str) -> str:
    lines = []
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and name in GENERATED and not value:
            line = f"{name}={GENERATED[name]()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def create_env(project_dir: Path) -> bool:
    """Write project_dir/.env (mode 0600); False if it already exists."""
    target = project_dir / ".env"
    if target.exists():
        return False
    content = render((project_dir / ".env.example").read_text(encoding="utf-8"))
    # Created with owner-only permissions from the start: it holds secrets.
    target.touch(mode=0o600, exist_ok=False)
    target.write_text(content, encoding="utf-8")
    return True


if __name__ == "__main__":
    project = Path(__file__).resolve().parent.parent
    created = create_env(project)
    print(".env created with fresh secrets" if created else ".env already exists")
    sys.exit(0)
