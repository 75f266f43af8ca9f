/* rnnlab page, core: the tokenizer, the encoder and the forward pass of a trained model.
 *
 * Plain JavaScript with no DOM: the page runs it, and tests/js/harness.js runs the
 * very same text under node to check it against rnnlab predict.  Everything the
 * model needs (weights, vocabulary, Unicode tables) comes from the JSON that
 * rnnlab.report.page embeds beside this script.
 */
"use strict";

var RnnlabCore = (function () {
  const PAD = 0, START = 1, OOV = 2, INDEX_FROM = 3;
  const TOKEN_NAMES = { [PAD]: "[PAD]", [START]: "[START]", [OOV]: "[OOV]" };

  // --- binary data: base64 -> deflate -> bytes ----------------------------------------

  async function inflate(base64) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  /** float32 weights stored as byte planes (all first bytes, then all second bytes...):
   *  the planes of exponents compress far better than interleaved floats. */
  function floatsFromPlanes(planes) {
    const n = planes.length / 4, view = new DataView(new ArrayBuffer(planes.length));
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 4; k++) view.setUint8(4 * i + k, planes[k * n + i]);
    }
    return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
  }

  /** The words of a front-coded list (page.py's front_coded): for each word, how many
   *  bytes to drop from the end of the word before it (bytes below 32, summed), then
   *  the UTF-8 bytes it adds. */
  function frontDecoded(bytes) {
    const decoder = new TextDecoder(), words = [];
    let word = new Uint8Array(0);
    for (let at = 0; at < bytes.length; ) {
      let kept = word.length;
      while (at < bytes.length && bytes[at] < 32) kept -= bytes[at++];
      let end = at;
      while (end < bytes.length && bytes[end] >= 32) end++;
      const next = new Uint8Array(kept + end - at);
      next.set(word.subarray(0, kept));
      next.set(bytes.subarray(at, end), kept);
      words.push(decoder.decode(next));
      word = next;
      at = end;
    }
    return words;
  }

  // --- the tokenizers, with Python's own Unicode tables (page_unicode.py) ---------

  const WORD = 1, CASED = 2, IGNORABLE = 4, SPACE = 8; // character flags

  function numbers(code) {
    return code ? code.split(",").map((x) => parseInt(x, 36)) : [];
  }

  function characterFlags(unicode) {
    const flags = new Uint8Array(0x110000);
    const tables = [[WORD, unicode.word], [CASED, unicode.cased], [IGNORABLE, unicode.ignorable], [SPACE, unicode.space]];
    for (const [flag, code] of tables) {
      const n = numbers(code); // (gap, length) pairs of ranges
      for (let k = 0, c = 0; k < n.length; k += 2) {
        c += n[k];
        for (const end = c + n[k + 1]; c < end; c++) flags[c] |= flag;
      }
    }
    return flags;
  }

  function lowerCaseMap(unicode) {
    const map = new Map(), n = numbers(unicode.lower); // (gap, count, stride, delta) runs
    for (let k = 0, c = 0; k < n.length; k += 4) {
      c += n[k];
      const [count, stride, delta] = [n[k + 1], n[k + 2], n[k + 3]];
      for (let j = 0; j < count; j++) map.set(c + j * stride, String.fromCodePoint(c + j * stride + delta));
      c += (count - 1) * stride + 1;
    }
    for (const [code, text] of Object.entries(unicode.lower_multi)) map.set(Number(code), text);
    return map;
  }

  /** Python's str.lower(), final sigma included. */
  function makeLowerCase(unicode, flags) {
    const lower = lowerCaseMap(unicode);

    function codePointBefore(s, j) {
      const low = s.charCodeAt(j - 1);
      if (low >= 0xdc00 && low <= 0xdfff && j >= 2) {
        const high = s.charCodeAt(j - 2);
        if (high >= 0xd800 && high <= 0xdbff) return [s.codePointAt(j - 2), 2];
      }
      return [low, 1];
    }

    /** CPython's Final_Sigma test for the capital sigma at s[i]. */
    function isFinalSigma(s, i) {
      let j = i, cp = 0, length;
      do {
        if (j === 0) return false;
        [cp, length] = codePointBefore(s, j);
        j -= length;
      } while (flags[cp] & IGNORABLE);
      if (!(flags[cp] & CASED)) return false;
      for (j = i + 1; j < s.length; j += cp > 0xffff ? 2 : 1) {
        cp = s.codePointAt(j);
        if (!(flags[cp] & IGNORABLE)) return !(flags[cp] & CASED);
      }
      return true;
    }

    return function lowerCase(s) {
      const pieces = [];
      let copied = 0;
      for (let i = 0; i < s.length; ) {
        const cp = s.codePointAt(i), size = cp > 0xffff ? 2 : 1;
        let mapped;
        if (cp < 128) mapped = cp >= 65 && cp <= 90 ? String.fromCharCode(cp + 32) : undefined;
        else if (cp === 0x3a3) mapped = isFinalSigma(s, i) ? "\u03c2" : "\u03c3";
        else mapped = lower.get(cp);
        if (mapped !== undefined) {
          pieces.push(s.slice(copied, i), mapped);
          copied = i + size;
        }
        i += size;
      }
      pieces.push(s.slice(copied));
      return pieces.join("");
    };
  }

  /** Python's rnnlab tokenizer (version 1): tags -> space, ’ -> ', str.lower(), then
   *  the words of the regex [^\W_]+(?:'[^\W_]+)*, with the tables of that Python. */
  function makeWordTokenizer(unicode) {
    const flags = characterFlags(unicode), lowerCase = makeLowerCase(unicode, flags);
    const TAG = /<\/?[A-Za-z][^<>]*>/g;
    const isWordAt = (s, i) => i < s.length && (flags[s.codePointAt(i)] & WORD) !== 0;
    function skipWord(s, i) {
      while (isWordAt(s, i)) i += s.codePointAt(i) > 0xffff ? 2 : 1;
      return i;
    }

    return function tokenize(text) {
      const s = lowerCase(text.replace(/\x1e/g, " ").replace(TAG, " ").replace(/\u2019/g, "'"));
      const words = [];
      for (let i = 0; i < s.length; ) {
        if (!isWordAt(s, i)) {
          i += s.codePointAt(i) > 0xffff ? 2 : 1;
          continue;
        }
        const start = i;
        i = skipWord(s, i);
        while (s.charCodeAt(i) === 39 && isWordAt(s, i + 1)) i = skipWord(s, i + 1);
        words.push(s.slice(start, i));
      }
      return words;
    };
  }

  /** unicodedata.normalize("NFC", s) with that Python's tables: canonical
   *  decomposition (Hangul by its formula), canonical order, canonical composition. */
  function makeNfc(unicode, decompositionBytes) {
    const combining = new Uint8Array(0x110000), decomposition = new Map(), composite = new Map();
    const runs = numbers(unicode.combining); // (gap, length, class) runs
    for (let k = 0, c = 0; k < runs.length; k += 3) {
      c += runs[k];
      combining.fill(runs[k + 2], c, c + runs[k + 1]);
      c += runs[k + 1];
    }
    const n = numbers(new TextDecoder().decode(decompositionBytes)); // (gap, kind, parts...)
    for (let k = 0, c = 0; k < n.length; ) {
      c += n[k];
      const kind = n[k + 1], size = kind > 2 ? kind - 2 : kind, parts = n.slice(k + 2, k + 2 + size);
      decomposition.set(c, parts);
      if (kind === 2) composite.set(parts[0] * 0x110000 + parts[1], c);
      k += 2 + size;
    }
    const S = 0xac00, L = 0x1100, V = 0x1161, T = 0x11a7, VN = 21, TN = 28, SN = 11172;

    function decompose(cp, out) {
      if (cp >= S && cp < S + SN) {
        const s = cp - S;
        out.push(L + Math.floor(s / (VN * TN)), V + Math.floor((s % (VN * TN)) / TN));
        if (s % TN) out.push(T + (s % TN));
      } else if (decomposition.has(cp)) {
        for (const part of decomposition.get(cp)) decompose(part, out);
      } else out.push(cp);
    }

    function compose(a, b) {
      if (a >= L && a < L + 19 && b >= V && b < V + VN) return S + ((a - L) * VN + (b - V)) * TN;
      if (a >= S && a < S + SN && (a - S) % TN === 0 && b > T && b < T + TN) return a + (b - T);
      return composite.get(a * 0x110000 + b);
    }

    return function nfc(s) {
      if (/^[\x00-\x7f]*$/.test(s)) return s;
      const cps = [];
      for (const ch of s) decompose(ch.codePointAt(0), cps);
      for (let i = 1; i < cps.length; i++) { // canonical order: a stable sort of each run of marks
        for (let j = i; j > 0 && combining[cps[j]] && combining[cps[j - 1]] > combining[cps[j]]; j--) {
          [cps[j - 1], cps[j]] = [cps[j], cps[j - 1]];
        }
      }
      const out = [];
      let starter = -1, lastClass = 0;
      for (const cp of cps) {
        const cls = combining[cp];
        const blocked = out.length - 1 > starter && (lastClass === 0 || lastClass >= cls);
        if (starter >= 0 && !blocked) {
          const c = compose(out[starter], cp);
          if (c !== undefined) {
            out[starter] = c;
            continue;
          }
        }
        if (cls === 0) starter = out.length;
        out.push(cp);
        lastClass = cls;
      }
      const pieces = []; // fromCodePoint takes a limited number of arguments
      for (let k = 0; k < out.length; k += 8192) pieces.push(String.fromCodePoint(...out.slice(k, k + 8192)));
      return pieces.join("");
    };
  }

  /** sentencepiece's unigram encoder on the char tokenizer's characters (see
   *  page_subword.py): a dummy ▁ first, none last, then the Viterbi of
   *  EncodeOptimized with float32 sums; unknown characters cost min score - 10 each
   *  and a run of them is one <unk>. */
  function makeSubwordTokenizer(characters, names, scores, types) {
    const index = new Map();
    const USER_DEFINED = 4, UNUSED = 5, UNKNOWN = 2;
    let unkId = -1, minScore = 3.4028234663852886e38, maxScore = 1.1754943508222875e-38, longest = 1;
    names.forEach((name, id) => {
      const type = types[id] || 1;
      if (type === UNKNOWN) unkId = id;
      if (type === 1) [minScore, maxScore] = [Math.min(minScore, scores[id]), Math.max(maxScore, scores[id])];
      if (type === 1 || type === USER_DEFINED) { // UNUSED pieces are matched, then skipped
        index.set(name, id);
        longest = Math.max(longest, Array.from(name).length);
      }
    });
    const unkScore = Math.fround(minScore - 10);
    const utf8Length = (s) => new TextEncoder().encode(s).length;

    return function tokenize(text) {
      const chars = ["\u2581", ...characters(text)];
      while (chars.length && chars[chars.length - 1] === "\u2581") chars.pop();
      if (!chars.length) return [];
      const n = chars.length, score = new Float64Array(n + 1), from = new Int32Array(n + 1).fill(-1);
      const ids = new Int32Array(n + 1);
      const offer = (end, start, id, candidate) => {
        if (from[end] === -1 || candidate > score[end]) {
          [score[end], from[end], ids[end]] = [Math.fround(candidate), start, id];
        }
      };
      for (let start = 0; start < n; start++) {
        let piece = "", single = false;
        for (let end = start + 1; end <= Math.min(n, start + longest); end++) {
          piece += chars[end - 1];
          const id = index.get(piece);
          if (id === undefined) continue;
          const own = types[id] === USER_DEFINED
            ? Math.fround(utf8Length(piece) * maxScore) - 0.1 // in double, as C++ does
            : null;
          offer(end, start, id, own === null ? Math.fround(scores[id] + score[start]) : own + score[start]);
          if (end === start + 1) single = true;
        }
        if (!single) offer(start + 1, start, unkId, Math.fround(unkScore + score[start]));
      }
      const tokens = [];
      for (let end = n; end > 0; end = from[end]) {
        const unknown = ids[end] === unkId;
        if (unknown && tokens.length && tokens[tokens.length - 1] === unkId) continue;
        tokens.push(unknown ? unkId : names[ids[end]]);
      }
      return tokens.reverse().map((token) => (token === unkId ? names[unkId] : token));
    };
  }

  /** Python's char tokenizer (version 1): tags -> space, NFC, str.lower(), Python's
   *  whitespace stripped and each run of it one ▁; the tokens are the code points. */
  function makeCharTokenizer(unicode, decompositionBytes) {
    const flags = characterFlags(unicode), lowerCase = makeLowerCase(unicode, flags);
    const nfc = makeNfc(unicode, decompositionBytes);
    const TAG = /<\/?[A-Za-z][^<>]*>/g;

    return function tokenize(text) {
      const tokens = [];
      let space = false;
      for (const ch of lowerCase(nfc(text.replace(TAG, " ")))) {
        if (flags[ch.codePointAt(0)] & SPACE) space = true;
        else {
          if (space && tokens.length) tokens.push("\u2581");
          tokens.push(ch);
          space = false;
        }
      }
      return tokens;
    };
  }

  // --- cutting a long review before tokenizing it ------------------------------------
  // A cut is safe where no word, tag or final-sigma context can span it: beside a space
  // or newline outside any tag, or at a '<'.  Tokenizing the piece then gives the
  // same words as tokenizing the whole text, on that side of the cut.

  function isSpace(s, i) {
    return s[i] === " " || s[i] === "\n";
  }

  function tagMaySpan(s, q) {
    const open = s.lastIndexOf("<", q - 1);
    return open >= 0 && s.lastIndexOf(">", q - 1) < open;
  }

  /** A safe start at or before q (0: no safe cut, read everything). */
  function safeStart(s, q) {
    while (q > 0 && !isSpace(s, q - 1)) q--;
    return q > 0 && tagMaySpan(s, q) ? s.lastIndexOf("<", q - 1) : q;
  }

  /** A safe end at or after q (s.length: no safe cut). */
  function safeEnd(s, q) {
    for (;;) {
      while (q < s.length && !isSpace(s, q)) q++;
      if (q >= s.length || !tagMaySpan(s, q)) return q;
      const close = s.indexOf(">", q);
      if (close < 0) return s.length;
      q = close + 1;
    }
  }

  // --- the encoder: words -> the ids the model reads ----------------------------------

  function makeEncoder(spec, seenWords, tokenize, cuttable = true) {
    const rank = new Map(spec.words.map((w, k) => [w, k + 1]));
    const seen = new Set(seenWords); // seen in training, ranked beyond num_words: [OOV]
    const { maxlen, padding, truncating } = spec;

    function wordId(word) {
      if (seen.has(word)) return OOV;
      const r = rank.get(word);
      return r === undefined ? null : r + INDEX_FROM;
    }

    function tokenName(id) {
      return TOKEN_NAMES[id] || spec.words[id - INDEX_FROM - 1];
    }

    /** The words the model can read: for a long review only the end that truncation
     *  keeps (tested equal to tokenizing everything), so a 1 MB review stays fast. */
    function wordsRead(text, chunk) {
      // Not for subwords: the Viterbi's float32 sums depend on what came before.
      for (let size = chunk; cuttable && size < text.length; size *= 4) {
        const piece = truncating === "pre"
          ? text.slice(safeStart(text, text.length - size))
          : text.slice(0, safeEnd(text, size));
        if (piece.length === text.length) break;
        const words = tokenize(piece);
        if (words.filter((w) => wordId(w) !== null).length >= maxlen) return { words, whole: false };
      }
      return { words: tokenize(text), whole: true };
    }

    /** What the model reads for `text`: ids (maxlen), one step per id with the word
     *  behind it and the skipped words before it, and what was cut. */
    function encode(text, chunk = 50 * maxlen) {
      const { words, whole } = wordsRead(text, chunk);
      const sequence = [{ id: START, word: null, skipped: [] }];
      let skipped = [], oov = 0;
      for (const word of words) {
        const id = wordId(word);
        if (id === null) {
          skipped.push(word);
          continue;
        }
        if (id === OOV) oov++;
        sequence.push({ id, word, skipped });
        skipped = [];
      }
      const cut = Math.max(sequence.length - maxlen, 0);
      const kept = truncating === "pre" ? sequence.slice(cut) : sequence.slice(0, maxlen);
      const pads = Array.from({ length: maxlen - kept.length }, () => ({ id: PAD, word: null, skipped: [] }));
      const steps = (padding === "pre" ? [...pads, ...kept] : [...kept, ...pads]).map((step) => ({
        ...step,
        token: tokenName(step.id),
      }));
      const skippedAfter = cut && truncating === "post" ? [] : skipped;
      return {
        ids: steps.map((step) => step.id),
        steps,
        skippedAfter,
        cutBefore: cut > 0 && truncating === "pre",
        cutAfter: cut > 0 && truncating === "post",
        counts: whole
          ? { words: words.length, skipped: words.length - sequence.length + 1, oov, whole }
          : countsIn(kept, skippedAfter),
      };
    }

    /** The words of a part of the review, for a review only partly tokenized. */
    function countsIn(kept, skippedAfter) {
      const read = kept.filter((step) => step.id !== START);
      const skipped = kept.reduce((n, step) => n + step.skipped.length, skippedAfter.length);
      const oov = read.filter((step) => step.id === OOV).length;
      return { words: read.length + skipped, skipped, oov, whole: false };
    }

    return { encode, wordId, tokenName };
  }

  // --- the forward pass: the model's layers, in double precision ---------------------

  const ACTIVATIONS = {
    linear: (x) => x,
    tanh: Math.tanh,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    relu: (x) => (x > 0 ? x : 0),
    hard_sigmoid: (x) => Math.min(1, Math.max(0, x / 6 + 0.5)),
    softsign: (x) => x / (1 + Math.abs(x)),
  };

  function makeNetwork(layers, weights) {
    const w = (ref) => weights.subarray(ref.offset, ref.offset + ref.size);

    /** x (length rows) times the rows x cols matrix m, added to out. */
    function addProduct(out, x, m, cols) {
      for (let i = 0; i < x.length; i++) {
        const xi = x[i], row = i * cols;
        if (xi !== 0) for (let j = 0; j < cols; j++) out[j] += xi * m[row + j];
      }
      return out;
    }

    function plus(a, b, offset = 0) {
      for (let j = 0; j < a.length; j++) a[j] += b[offset + j];
      return a;
    }

    function recurrentLayer(spec) {
      const u = spec.units, gates = { simple: 1, lstm: 4, gru: 3 }[spec.cell];
      const kernel = w(spec.kernel), recurrent = w(spec.recurrent_kernel);
      const bias = spec.bias ? w(spec.bias) : null; // GRU reset_after: input then recurrent bias
      const act = ACTIVATIONS[spec.activation], gate = ACTIVATIONS[spec.recurrent_activation];
      const splitBias = spec.cell === "gru" && spec.reset_after;

      /** x @ kernel + input bias, for one step; `x` is an id for a one-hot layer. */
      function project(x) {
        const z = new Float64Array(gates * u);
        if (spec.input === "ids") plus(z, kernel, x * gates * u);
        else addProduct(z, x, kernel, gates * u);
        return bias ? plus(z, bias) : z;
      }

      function step(x, h, c) {
        const z = project(x);
        if (spec.cell === "simple") return [addProduct(z, h, recurrent, u).map(act), c];
        if (spec.cell === "lstm") {
          addProduct(z, h, recurrent, 4 * u);
          const cNew = new Float64Array(u), hNew = new Float64Array(u);
          for (let j = 0; j < u; j++) {
            const [i, f, o] = [gate(z[j]), gate(z[u + j]), gate(z[3 * u + j])];
            cNew[j] = f * c[j] + i * act(z[2 * u + j]);
            hNew[j] = o * act(cNew[j]);
          }
          return [hNew, cNew];
        }
        const inner = addProduct(new Float64Array(3 * u), h, recurrent, 3 * u); // GRU: h @ U
        if (splitBias) plus(inner, bias, 3 * u);
        const r = Array.from({ length: u }, (_, j) => gate(z[u + j] + inner[u + j]));
        if (!splitBias) {
          // reset_after=False: the reset gate acts before the product, (r * h) @ U_h
          inner.fill(0, 2 * u);
          for (let i = 0; i < u; i++) {
            for (let j = 0; j < u; j++) inner[2 * u + j] += r[i] * h[i] * recurrent[i * 3 * u + 2 * u + j];
          }
        }
        const hNew = new Float64Array(u);
        for (let j = 0; j < u; j++) {
          const update = gate(z[j] + inner[j]);
          const recurrentH = splitBias ? r[j] * inner[2 * u + j] : inner[2 * u + j];
          hNew[j] = update * h[j] + (1 - update) * act(z[2 * u + j] + recurrentH);
        }
        return [hNew, c];
      }

      /** Keras' loop: the outputs in reading order (reversed when go_backwards); a
       *  masked step keeps the state and repeats the output (or zeros). */
      return function run(inputs, mask) {
        let h = new Float64Array(u), c = new Float64Array(u);
        const outputs = [], T = inputs.length;
        for (let k = 0; k < T; k++) {
          const t = spec.go_backwards ? T - 1 - k : k;
          if (mask && !mask[t]) {
            outputs.push(spec.zero_output_for_mask ? new Float64Array(u) : h);
            continue;
          }
          [h, c] = step(inputs[t], h, c);
          outputs.push(h);
        }
        return outputs;
      };
    }

    const MERGE = {
      concat: (a, b) => Float64Array.from([...a, ...b]),
      sum: (a, b) => a.map((x, j) => x + b[j]),
      ave: (a, b) => a.map((x, j) => (x + b[j]) / 2),
      mul: (a, b) => a.map((x, j) => x * b[j]),
    };

    function dense(spec) {
      const kernel = w(spec.kernel), bias = spec.bias ? w(spec.bias) : null;
      const act = ACTIVATIONS[spec.activation];
      return (x) => {
        const y = addProduct(new Float64Array(spec.units), x, kernel, spec.units);
        return (bias ? plus(y, bias) : y).map(act);
      };
    }

    const recurrent = layers.map((spec) => spec.type === "rnn" || spec.type === "bidirectional");
    const lastRecurrent = recurrent.lastIndexOf(true);
    const pooled = layers.some((spec) => spec.type === "max_over_time");
    const perToken = layers[lastRecurrent].type === "rnn" && !pooled;
    const compiled = layers.map((spec) => {
      if (spec.type === "rnn") return recurrentLayer(spec);
      if (spec.type === "bidirectional") return [recurrentLayer(spec.forward), recurrentLayer(spec.backward)];
      if (spec.type === "dense") return dense(spec);
      if (spec.type === "embedding") {
        const table = w(spec.embeddings);
        return (id) => Float64Array.from(table.subarray(id * spec.output_dim, (id + 1) * spec.output_dim));
      }
      return null; // dropout: nothing at inference
    });

    /** P(positive) for the ids, and (one-directional models) after each step, as the
     *  model with its last recurrent layer returning sequences gives it. */
    function run(ids) {
      let sequence = ids, vector = null, mask = null;
      layers.forEach((spec, k) => {
        const layer = compiled[k];
        if (spec.type === "embedding") {
          sequence = ids.map(layer);
          mask = spec.mask_zero ? ids.map((id) => id !== PAD) : null;
        } else if (spec.type === "rnn") {
          const outputs = layer(sequence, mask);
          if (spec.return_sequences || k === lastRecurrent) sequence = outputs;
          else [sequence, vector] = [null, outputs[outputs.length - 1]];
        } else if (spec.type === "bidirectional") {
          const [forward, backward] = [layer[0](sequence, mask), layer[1](sequence, mask)];
          const merge = MERGE[spec.merge_mode];
          const T = forward.length; // the backward outputs are in reading order: flip them
          if (spec.return_sequences) sequence = forward.map((f, t) => merge(f, backward[T - 1 - t]));
          else [sequence, vector] = [null, merge(forward[T - 1], backward[T - 1])];
        } else if (spec.type === "max_over_time") {
          [sequence, vector] = [null, sequence.reduce((a, b) => a.map((x, j) => Math.max(x, b[j])))];
        } else if (spec.type === "dense") {
          if (sequence) sequence = sequence.map(layer);
          else vector = layer(vector);
        }
      });
      if (!perToken) return { probability: vector[0], probabilities: null };
      const probabilities = sequence.map((y) => y[0]);
      return { probability: probabilities[probabilities.length - 1], probabilities };
    }

    return { run, perToken };
  }

  // --- what the page shows -------------------------------------------------------------

  /** P(positive) with 4 decimals, as rnnlab predict prints the float32 it computes. */
  function format4(p) {
    return Math.fround(p).toFixed(4);
  }

  /** The words that moved P(positive) most, as rnnlab predict --explain reports them:
   *  change = p_t - p_(t-1), [PAD]/[START]/[OOV] left out, up to 5 each way. */
  function strongestMoves(steps, probabilities) {
    const moves = [];
    steps.forEach((step, t) => {
      if (t > 0 && step.id !== PAD && step.id !== START && step.id !== OOV) {
        moves.push({ token: step.token, change: probabilities[t] - probabilities[t - 1] });
      }
    });
    const order = (a, b) => a.change - b.change || (a.token < b.token ? -1 : a.token > b.token ? 1 : 0);
    moves.sort(order);
    return {
      up: moves.filter((m) => m.change > 0).reverse().slice(0, 5),
      down: moves.filter((m) => m.change < 0).slice(0, 5),
    };
  }

  /** The page's data (see page.py) -> a ready model: encode(text), run(ids). */
  async function load(data) {
    const word = data.tokenizer === "word", subword = data.subword;
    const [weightPlanes, seenBytes, decompositions, pieces, scores] = await Promise.all([
      inflate(data.model.weights),
      inflate(data.encoder.seen),
      word ? null : inflate(data.unicode.decompositions),
      subword ? inflate(subword.pieces) : null,
      subword ? inflate(subword.scores) : null,
    ]);
    let tokenize = word ? makeWordTokenizer(data.unicode) : makeCharTokenizer(data.unicode, decompositions);
    const names = subword ? new TextDecoder().decode(pieces).split("\n") : [];
    if (subword) tokenize = makeSubwordTokenizer(tokenize, names, floatsFromPlanes(scores), subword.types);
    const seen = [...frontDecoded(seenBytes), ...data.encoder.seen_control];
    let id = 0; // the other pieces seen in training, by id (gaps in base36)
    for (const gap of numbers(new TextDecoder().decode(await inflate(data.encoder.seen_pieces)))) {
      seen.push(names[(id += gap)]);
    }
    const encoder = makeEncoder(data.encoder, seen, tokenize, !subword);
    const network = makeNetwork(data.model.layers, floatsFromPlanes(weightPlanes));
    return { tokenize, ...encoder, ...network };
  }

  return { load, format4, strongestMoves, PAD, START, OOV };
})();
