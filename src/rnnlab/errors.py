"""The one exception type that the command line turns into a one-line message."""


class RnnlabError(Exception):
    """A problem the user can fix (bad input, missing data, no network).

    The message is one line that says what is wrong and how to fix it; the
    command line prints it without a traceback and exits with code 2.
    """
