from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_tables(using: str, **kwargs) -> None:
    """Each `migrate` also creates the database cache tables CACHES names (in
    production, where allauth's rate limits count); existing ones stay."""
    call_command("createcachetable", database=using, verbosity=0)


class UsersConfig(AppConfig):
    name = "apps.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        post_migrate.connect(create_cache_tables, sender=self)
