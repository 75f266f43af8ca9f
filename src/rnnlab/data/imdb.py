"""The public loading API of Keras' IMDB module: `load_imdb`, `get_word_index`,
`decode_review`, on any source (dataset.py)."""

from ..errors import RnnlabError
from .dataset import open_dataset
from .encoder import TOKEN_NAMES
from .sources import WORD_INDEX_FILENAME

open_imdb = open_dataset  # its name from when IMDB was the only data set


def load_imdb(
    path=None,
    num_words=None,
    skip_top=0,
    maxlen=None,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """IMDB as `keras.datasets.imdb.load_data` returns it, from any source.

    `path`: a Keras `imdb.npz`, an aclImdb `.tar.gz` or folder, any other data spec
    (see `open_dataset`), or the name of a download (`keras`, `aclimdb`, `nsmc`);
    default $RNNLAB_DATA, else `keras`.  The other arguments mean exactly what they
    mean in Keras.
    """
    return open_imdb(path).load_data(
        num_words=num_words,
        skip_top=skip_top,
        maxlen=maxlen,
        seed=seed,
        start_char=start_char,
        oov_char=oov_char,
        index_from=index_from,
    )


def get_word_index(path=None) -> dict[str, int]:
    """Word -> frequency rank (1 = most frequent) for the source named by `path`."""
    raw = open_imdb(path)
    if raw.words is None:
        raise RnnlabError(
            f"{raw.source} has no word index: put Keras' {WORD_INDEX_FILENAME} beside the npz"
        )
    return raw.word_index()


def decode_review(ids, word_index, index_from=3) -> str:
    """The words of a sequence of ids; padding, start and OOV ids shown as [PAD],
    [START], [OOV] (with Keras' defaults 0, 1, 2) and unknown ids as [?]."""
    words = {rank + index_from: word for word, rank in word_index.items()}
    specials = {i: token for i, token in TOKEN_NAMES.items() if i < index_from}
    return " ".join(words.get(i, specials.get(i, "[?]")) for i in map(int, ids))
