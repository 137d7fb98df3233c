from django.apps import AppConfig


class FollowingConfig(AppConfig):
    name = "following"
    verbose_name = "Copy trading"

    def ready(self) -> None:
        from following.follower_orders import follower_order_failed
        from orders import hooks

        hooks.on_follower_order_failed(follower_order_failed)
        from following.notify import notify_copied_trade

        hooks.on_order_accepted(notify_copied_trade)

        from following.dispatch import master_order_accepted

        hooks.on_order_accepted(master_order_accepted)

        from following import warmup  # noqa: F401  (each worker process reads its masters as it starts)
