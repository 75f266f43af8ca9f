"""A sentencepiece unigram model as the page's subword tokenizer reads it (core.js).

The page cannot run sentencepiece, so core.js has its encoder: the text prepared
as for the char tokenizer, sentencepiece's whitespace rules (a dummy `▁` in
front, spaces as `▁`, none at the end), then the Viterbi of
`unigram::Model::EncodeOptimized` over the pieces with their float32 scores
(sums rounded to float32 as it does, ties to the longest last piece), one
unknown character at `min score - 10`, and runs of unknown pieces merged into
one `<unk>`.  Here the model file (sentencepiece's ModelProto, read with a few
lines of protobuf wire format, so no protobuf package) gives the pieces, their
scores and types; a model whose rules core.js does not have is refused.
"""

import base64
import zlib

from ..errors import RnnlabError

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
# TrainerSpec fields core.js assumes at their defaults: (number, name, default)
TRAINER_RULES = [
    (3, "model_type", 1),
    (24, "treat_whitespace_as_suffix", 0),
    (35, "byte_fallback", 0),
]
NORMALIZER_RULES = [(3, "add_dummy_prefix", 1), (4, "remove_extra_whitespaces", 1),
                    (5, "escape_whitespaces", 1)]  # fmt: skip


def _fields(data: bytes):
    """(field number, value) of a protobuf message: ints for varints and fixed32
    (as raw bytes), bytes for length-delimited fields."""
    at = 0

    def varint():
        nonlocal at
        value, shift = 0, 0
        while True:
            byte = data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while at < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, varint()
        elif wire == 1:
            yield number, data[at : at + 8]
            at += 8
        elif wire == 2:
            size = varint()
            yield number, data[at : at + size]
            at += size
        elif wire == 5:
            yield number, data[at : at + 4]
            at += 4
        else:
            raise ValueError(f"protobuf wire type {wire}")


def subword_data(model: bytes) -> dict:
    """The pieces (by id, '\\n'-joined, deflated), their float32 scores (as byte
    planes, as the weights, deflated) and the ids of pieces that are not NORMAL,
    with their types."""
    pieces, scores, types = [], [], {}
    trainer, normalizer = {}, {}
    try:
        for number, value in _fields(model):
            if number == 1:
                piece = {1: b"", 2: b"\0\0\0\0", 3: NORMAL} | dict(_fields(value))
                pieces.append(piece[1].decode("utf-8"))
                scores.append(piece[2])
                if piece[3] != NORMAL:
                    types[len(pieces) - 1] = piece[3]
            elif number in (2, 3):
                (trainer if number == 2 else normalizer).update(_fields(value))
    except (ValueError, IndexError, UnicodeDecodeError) as error:
        raise RnnlabError(f"the subword model is damaged ({error}); train the run again") from None
    rules = [(trainer, TRAINER_RULES), (normalizer, NORMALIZER_RULES)]
    for spec, checks in rules:
        for number, name, default in checks:
            if spec.get(number, default) != default:
                raise RnnlabError(f"the page cannot run a subword model with {name} changed")
    if normalizer.get(2) or any(t in (USER_DEFINED, BYTE) for t in types.values()):
        raise RnnlabError(
            "the page runs subword models with sentencepiece's identity normalization and "
            "no user-defined or byte pieces (as rnnlab trains them)"
        )
    if "\n" in "".join(pieces) or list(types.values()).count(UNKNOWN) != 1:
        raise RnnlabError("the page cannot run this subword model: its pieces are unusual")
    planes = b"".join(score[k : k + 1] for k in range(4) for score in scores)  # byte planes
    return {
        "pieces": _deflated("\n".join(pieces).encode("utf-8")),
        "scores": _deflated(planes),
        "types": {str(i): t for i, t in types.items()},
    }


def _deflated(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 9)).decode("ascii")
