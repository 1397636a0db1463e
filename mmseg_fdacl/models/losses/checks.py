"""Argument checks shared by the losses (errors name the loss and the key)."""


def check_loss_weight(owner: str, value) -> float:
    """``loss_weight`` as a float, refusing non-numbers and negatives."""
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or value < 0):
        raise ValueError(f'{owner}: `loss_weight` must be a number >= 0, '
                         f'got {value!r}.')
    return float(value)


def check_loss_name(owner: str, value) -> str:
    """``loss_name``, which must start with ``loss_``: mmengine's
    ``parse_losses`` sums only the keys that contain ``loss``."""
    if not isinstance(value, str) or not value.startswith('loss_'):
        raise ValueError(f"{owner}: `loss_name` must be a str starting with "
                         f"'loss_' (mmengine sums only those), got "
                         f'{value!r}.')
    return value
