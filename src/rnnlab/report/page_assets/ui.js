/* rnnlab page, UI: the review box, the verdict, the tokens read, the chart, the moves.
 *
 * A review only ever reaches the page as text (textContent, attributes set through
 * the DOM): it never becomes HTML, whatever it holds.
 */
"use strict";

(function () {
  const STRINGS = {
    en: {
      title: "Is this review positive?",
      model_line: "{name}: vocabulary of {num_words} ids, reads the {side} {maxlen} tokens of a review. Trained with rnnlab; it runs in this page, offline.",
      side_pre: "last",
      side_post: "first",
      input_label: "Type or paste a movie review {in}",
      in_en: "(in English)",
      in_ko: "(in Korean)",
      examples: "Examples:",
      probability: "P(positive) =",
      positive: "positive",
      negative: "negative",
      loading: "Loading the model…",
      empty: "Type a review: the probability updates as you type.",
      no_inflate: "This browser cannot unpack the vocabulary (no DecompressionStream): open the page in a recent Chrome, Edge, Firefox or Safari.",
      failed: "The page could not load its model: {error}",
      share: "Link to this review",
      copy: "Copy link",
      copied: "Copied.",
      too_long: "Too long to share as a link.",
      tokens_title: "What the model read, token by token",
      colour_help: "Each token is coloured by P(positive) after reading it (blue: positive, orange: negative); hover for the numbers.",
      tokens_help: "[START] begins every review, [PAD] fills it up to {maxlen} tokens, [OOV] is a {unit} seen in training but not among the {num_words} ids. Struck-through {units} never appeared in training: they are skipped.",
      space: "▁ is a space.",
      unit_word: "word",
      units_word: "words",
      unit_char: "character",
      units_char: "characters",
      unit_subword: "piece",
      units_subword: "pieces",
      two_ways: "--explain reads a one-directional RNN's state token by token; {name} reads the review both ways",
      cut_before: "✂ the review was cut to its last {maxlen} tokens",
      cut_after: "✂ the rest was cut: the model reads the first {maxlen} tokens",
      skipped: "skipped: never seen in training",
      oov: "[OOV]: “{word}” was seen in training, but is not among the {num_words} ids",
      step: "after “{token}”: P(positive) = {p}{change}",
      chart_count: "{n} tokens",
      counts: "{words} {units}: {skipped} skipped (never seen in training), {oov} read as [OOV].",
      partial: "Counted in the part of the review the model reads.",
      moves_title: "The {units} that moved the prediction most",
      up_title: "Up (towards positive)",
      down_title: "Down (towards negative)",
      none: "none",
      moves_help: "change = P(positive) after the {unit} − P(positive) before it; [START] and [OOV] are left out, as in rnnlab predict --explain.",
      footer: "Made with rnnlab page: the weights, the vocabulary and the network are all in this one file.",
      switch: "한국어",
    },
    ko: {
      title: "이 리뷰는 긍정일까요, 부정일까요?",
      model_line: "{name} 모델: 어휘 사전 크기 {num_words}, 리뷰의 {side} {maxlen}개 토큰을 읽습니다. rnnlab으로 훈련한 모델을 이 페이지 안에서 바로 실행하므로 인터넷 연결 없이도 동작합니다.",
      side_pre: "마지막",
      side_post: "처음",
      input_label: "영화 리뷰를 입력하거나 붙여 넣으세요 {in}",
      in_en: "(영어로)",
      in_ko: "(한국어로)",
      examples: "예시 리뷰:",
      probability: "긍정 확률 P(positive) =",
      positive: "긍정",
      negative: "부정",
      loading: "모델을 불러오는 중입니다…",
      empty: "리뷰를 입력하면 입력하는 대로 확률이 바뀝니다.",
      no_inflate: "이 브라우저는 어휘 사전의 압축을 풀 수 없습니다(DecompressionStream 미지원). 최신 Chrome, Edge, Firefox, Safari에서 열어 주세요.",
      failed: "모델을 불러오지 못했습니다: {error}",
      share: "이 리뷰의 링크",
      copy: "링크 복사",
      copied: "복사했습니다.",
      too_long: "리뷰가 너무 길어서 링크로 공유할 수 없습니다.",
      tokens_title: "모델이 읽은 토큰",
      colour_help: "토큰의 색은 그 토큰까지 읽었을 때의 긍정 확률입니다(파랑: 긍정, 주황: 부정). 마우스를 올리면 숫자가 보입니다.",
      tokens_help: "[START]는 모든 리뷰의 시작 토큰, [PAD]는 길이를 {maxlen}에 맞추려고 채운 패딩, [OOV]는 훈련 데이터에는 있었지만 어휘 사전(크기 {num_words})에 들지 못한 드문 {unit}입니다. 취소선이 그어진 {unit}는 훈련 데이터에 한 번도 나오지 않은 {unit}라서 건너뜁니다.",
      space: "▁는 띄어쓰기입니다.",
      unit_word: "단어",
      units_word: "단어",
      unit_char: "글자",
      units_char: "글자",
      unit_subword: "서브워드",
      units_subword: "서브워드",
      two_ways: "토큰별 확률은 한 방향 RNN의 상태를 토큰마다 읽어서 구합니다. {name} 모델은 리뷰를 양방향으로 읽으므로 최종 확률만 보여 줍니다.",
      cut_before: "✂ 리뷰가 길어서 마지막 {maxlen}개 토큰만 남기고 앞부분을 잘랐습니다",
      cut_after: "✂ 리뷰가 길어서 처음 {maxlen}개 토큰 뒤는 잘랐습니다",
      skipped: "건너뜀: 훈련 데이터에 없던 {unit}",
      oov: "[OOV]: 훈련 데이터에는 있었지만 어휘 사전(크기 {num_words})에 들지 못한 드문 {unit} “{word}”",
      step: "“{token}”까지 읽은 뒤 긍정 확률 = {p}{change}",
      chart_count: "토큰 {n}개",
      counts: "{units} {words}개 중 {skipped}개는 훈련 데이터에 없어 건너뛰고, {oov}개는 [OOV]로 읽었습니다.",
      partial: "모델이 읽는 부분에서만 센 값입니다.",
      moves_title: "예측을 가장 크게 바꾼 {unit}",
      up_title: "긍정 쪽으로 올린 {unit}",
      down_title: "부정 쪽으로 내린 {unit}",
      none: "없음",
      moves_help: "변화량 = {unit}를 읽은 뒤의 긍정 확률 − 읽기 전의 긍정 확률. rnnlab predict --explain과 같이 [START]와 [OOV]는 빼고 셉니다.",
      footer: "rnnlab page로 만든 페이지입니다. 가중치, 어휘 사전, 신경망이 모두 이 파일 하나에 들어 있습니다.",
      switch: "English",
    },
  };

  const PLACEHOLDERS = {
    en: "e.g. This movie was wonderful, the actors were great…",
    ko: "예: 정말 재미있고 감동적인 영화였어요",
  };

  const EXAMPLES_KO = [
    {
      name: { en: "Enthusiastic", ko: "극찬" },
      text: "배우들 연기가 정말 최고였고 스토리도 감동적이었어요. 꼭 다시 보고 싶은 명작입니다!",
    },
    {
      name: { en: "Disappointed", ko: "실망" },
      text: "시간 아깝다... 지루하고 연출도 최악. 돈 주고 본 게 후회됨 ㅠㅠ",
    },
    {
      name: { en: "Mixed", ko: "엇갈린 평" },
      text: "초반은 좀 지루했는데 후반부 반전이 대박이고 음악도 좋았음",
    },
    {
      name: { en: "Emoji and ㅋㅋ", ko: "이모티콘과 ㅋㅋ" },
      text: "ㅋㅋㅋㅋ 완전 꿀잼 😍👍<br />평점 10점!! 강추",
    },
  ];

  const EXAMPLES_EN = [
    {
      name: { en: "Enthusiastic", ko: "극찬" },
      text: "This movie was wonderful. The actors were great and the story kept me hooked until the very end. I loved it and would watch it again!",
    },
    {
      name: { en: "Disappointed", ko: "실망" },
      text: "What a waste of time. The plot was boring, the acting was awful and the ending made no sense at all. One of the worst films I have ever seen.",
    },
    {
      name: { en: "Mixed", ko: "엇갈린 평" },
      text: "The first half is slow and the dialogue is weak, but the last hour is brilliant and the music is beautiful.",
    },
    {
      name: { en: "HTML and rare words", ko: "HTML과 드문 단어" },
      text: "<i>Quite</i> an odd film.<br /><br />The cinematographer’s palette was sumptuous, the screenplay meandering; Zyzzyxian fans won't mind.",
    },
  ];

  const data = JSON.parse(document.getElementById("rnnlab-data").textContent);
  const $ = (id) => document.getElementById(id);
  const review = $("review");
  const SHARE_LIMIT = 100000; // characters of URL
  const EXAMPLES = data.reviews === "ko" ? EXAMPLES_KO : EXAMPLES_EN;
  let lang = data.lang, model = null, timer = null, lastUrl = "";

  function t(key, values = {}) {
    const strings = STRINGS[lang], unit = data.tokenizer;
    const common = {
      name: data.model.name,
      num_words: data.encoder.num_words,
      maxlen: data.encoder.maxlen,
      in: strings[`in_${data.reviews}`],
      unit: strings[`unit_${unit}`],
      units: strings[`units_${unit}`],
    };
    const all = { ...common, ...values };
    return strings[key].replace(/\{(\w+)\}/g, (_, k) => String(all[k]));
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showStaticText() {
    document.documentElement.lang = lang;
    document.title = `${t("title")} · ${data.model.name}`;
    for (const node of document.querySelectorAll("[data-text]")) node.textContent = t(node.dataset.text);
    $("model-line").textContent = t("model_line", { side: t(`side_${data.encoder.truncating}`) });
    $("lang-switch").textContent = STRINGS[lang].switch;
    review.placeholder = PLACEHOLDERS[data.reviews];
    if (data.tokenizer !== "word") $("tokens-help").textContent += ` ${t("space")}`;
    const examples = $("examples");
    examples.querySelectorAll("button").forEach((button) => button.remove());
    for (const example of EXAMPLES) {
      const button = element("button", "", example.name[lang]);
      button.type = "button";
      button.addEventListener("click", () => showReview(example.text));
      examples.append(button);
    }
  }

  // --- colours and the chart -------------------------------------------------------------

  /** Orange (negative) through white to blue (positive), as strong as p is sure. */
  function colour(p) {
    const [r, g, b] = p >= 0.5 ? [33, 102, 172] : [214, 96, 77];
    const s = Math.min(Math.abs(p - 0.5) * 2, 1) * 0.85;
    const mix = (c) => Math.round(255 + (c - 255) * s);
    return { background: `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`, ink: s > 0.55 ? "#fff" : "#1d232b" };
  }

  function svg(tag, attributes) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    return node;
  }

  function drawChart(points) {
    const width = 900, height = 170, left = 34, right = 10, top = 10, bottom = 20;
    const span = width - left - right;
    const x = (k) => left + (points.length > 1 ? (k / (points.length - 1)) * span : span / 2);
    const y = (p) => top + (1 - p) * (height - top - bottom);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
    chart.append(svg("title", {}));
    chart.firstChild.textContent = t("tokens_title");
    for (const p of [0, 0.5, 1]) {
      const line = { x1: left, x2: width - right, y1: y(p), y2: y(p), class: p === 0.5 ? "half" : "axis" };
      chart.append(svg("line", line));
      const label = svg("text", { x: 4, y: y(p) + 4 });
      label.textContent = p.toFixed(1);
      chart.append(label);
    }
    const curve = points.map((pt, k) => `${x(k)},${y(pt.p)}`).join(" ");
    chart.append(svg("polyline", { class: "curve", points: curve }));
    points.forEach((pt, k) => {
      const dot = svg("circle", {
        cx: x(k),
        cy: y(pt.p),
        r: points.length > 60 ? 2.5 : 3.5,
        fill: colour(pt.p).background,
        stroke: "#1d232b",
        "stroke-width": 0.6,
      });
      const tip = svg("title", {});
      tip.textContent = pt.title;
      dot.append(tip);
      chart.append(dot);
    });
    const axis = svg("text", { x: width - right, y: height - 4, "text-anchor": "end" });
    axis.textContent = t("chart_count", { n: points.length });
    chart.append(axis);
    $("chart").replaceChildren(chart);
  }

  // --- one review ------------------------------------------------------------------------

  function tokenChip(step, p, change) {
    const special = step.id <= RnnlabCore.OOV;
    const chip = element("span", `token${special ? " special" : ""}`, step.token);
    if (step.id === RnnlabCore.OOV) {
      chip.append(element("small", "", step.word));
      chip.title = t("oov", { word: step.word });
    }
    if (p !== null) {
      const { background, ink } = colour(p);
      chip.style.background = background;
      chip.style.color = ink;
      const changeText = change === null ? "" : ` (${change >= 0 ? "+" : ""}${change.toFixed(4)})`;
      const after = t("step", { token: step.token, p: RnnlabCore.format4(p), change: changeText });
      chip.title = chip.title ? `${chip.title}\n${after}` : after;
    }
    return chip;
  }

  function showTokens(encoded, probabilities) {
    const chips = [], points = [];
    const skippedChips = (words) =>
      words.map((word) => Object.assign(element("span", "token skipped", word), { title: t("skipped") }));
    let padChip = null, pads = 0;
    if (encoded.cutBefore) chips.push(element("span", "token cut", t("cut_before")));
    encoded.steps.forEach((step, k) => {
      const p = probabilities ? probabilities[k] : null;
      if (step.id === RnnlabCore.PAD) {
        if (padChip === null || chips[chips.length - 1] !== padChip) {
          padChip = element("span", "token pad special");
          chips.push(padChip);
          pads = 0;
        }
        pads += 1;
        padChip.textContent = `[PAD] × ${pads}`;
        if (p !== null) padChip.title = `P(positive) = ${RnnlabCore.format4(p)}`;
        return;
      }
      chips.push(...skippedChips(step.skipped));
      const change = p !== null && k > 0 ? p - probabilities[k - 1] : null;
      chips.push(tokenChip(step, p, change));
      if (p !== null) {
        points.push({ p, title: t("step", { token: step.token, p: RnnlabCore.format4(p), change: "" }) });
      }
    });
    chips.push(...skippedChips(encoded.skippedAfter));
    if (encoded.cutAfter) chips.push(element("span", "token cut", t("cut_after")));
    $("tokens").replaceChildren(...chips);
    $("counts").textContent = t("counts", encoded.counts) + (encoded.counts.whole ? "" : ` ${t("partial")}`);
    $("chart").hidden = $("colour-help").hidden = !probabilities;
    $("two-ways").hidden = Boolean(probabilities);
    $("two-ways").textContent = t("two_ways");
    if (probabilities) drawChart(points);
  }

  function showMoves(moves) {
    for (const [id, list, direction] of [["moves-up", moves.up, "up"], ["moves-down", moves.down, "down"]]) {
      const items = list.map((move) => {
        const item = element("li", "", `${move.token} `);
        item.append(element("span", direction, `(${move.change > 0 ? "+" : ""}${move.change.toFixed(3)})`));
        return item;
      });
      $(id).replaceChildren(...(items.length ? items : [element("li", "", t("none"))]));
    }
  }

  function showShareLink(text) {
    // A link is at least as long as the review: a long one is not even encoded.
    const here = location.href.split("#")[0];
    const url = text.length < SHARE_LIMIT ? `${here}#review=${encodeURIComponent(text)}` : "";
    const fits = url !== "" && url.length <= SHARE_LIMIT;
    lastUrl = fits ? url : "";
    $("share-link").hidden = $("share-url").hidden = $("copy-link").hidden = !fits;
    $("share-link").href = fits ? url : "#";
    $("share-url").value = lastUrl;
    $("share-note").textContent = fits ? "" : t("too_long");
  }

  function score() {
    timer = null;
    if (!model) return;
    const text = review.value;
    const empty = !text.trim();
    $("result").hidden = $("reading").hidden = $("moves").hidden = empty;
    $("status").textContent = empty ? t("empty") : "";
    if (empty) return;
    const encoded = model.encode(text);
    const { probability, probabilities } = model.run(encoded.ids);
    const positive = probability >= 0.5;
    $("probability").textContent = RnnlabCore.format4(probability);
    $("label").textContent = t(positive ? "positive" : "negative");
    $("label").className = positive ? "positive" : "negative";
    $("meter-fill").style.left = `calc(${(probability * 100).toFixed(2)}% - 1px)`;
    showTokens(encoded, probabilities);
    $("moves").hidden = !probabilities;
    if (probabilities) showMoves(RnnlabCore.strongestMoves(encoded.steps, probabilities));
    showShareLink(text);
  }

  function scoreSoon() {
    clearTimeout(timer);
    timer = setTimeout(score, review.value.length > 200000 ? 300 : 120);
  }

  function showReview(text) {
    review.defaultValue = text; // the text of the <textarea>, as text
    review.value = text;
    score();
  }

  function reviewFromFragment() {
    const match = /^#review=([\s\S]*)$/.exec(location.hash);
    if (!match) return null;
    try {
      return decodeURIComponent(match[1]);
    } catch {
      return match[1];
    }
  }

  async function start() {
    showStaticText();
    $("status").textContent = t("loading");
    if (typeof DecompressionStream === "undefined") {
      $("status").textContent = t("no_inflate");
      return;
    }
    try {
      model = await RnnlabCore.load(data);
    } catch (error) {
      $("status").textContent = t("failed", { error: String(error) });
      return;
    }
    const shared = reviewFromFragment();
    if (shared !== null) showReview(shared);
    else score();
  }

  review.addEventListener("input", scoreSoon);
  window.addEventListener("hashchange", () => {
    const shared = reviewFromFragment();
    if (shared !== null && shared !== review.value) showReview(shared);
  });
  $("lang-switch").addEventListener("click", () => {
    lang = lang === "en" ? "ko" : "en";
    showStaticText();
    score();
  });
  $("copy-link").addEventListener("click", () => {
    const done = () => ($("share-note").textContent = t("copied"));
    const copied = navigator.clipboard ? navigator.clipboard.writeText(lastUrl) : Promise.reject();
    copied.then(done, () => {
      $("share-url").select();
      document.execCommand("copy");
      done();
    });
  });
  start();
})();
