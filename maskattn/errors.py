"""The package's one error type."""


class MaskAttnError(ValueError):
    """Bad input at a public boundary of ``maskattn``.

    The message always names the offending value or shape, so the UI can show it
    as-is. It is a ``ValueError``, so ``except ValueError`` catches it too.

    >>> from maskattn import create_look_ahead_mask
    >>> create_look_ahead_mask(-1)
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: size must be a non-negative integer, got -1
    """
