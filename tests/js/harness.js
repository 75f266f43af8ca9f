// Runs the script of a page written by `rnnlab page` under node, without a DOM.
//
//   node harness.js PAGE.html REQUEST.json   ->   a JSON answer on stdout
//
// REQUEST: {"tokenize": [texts], "encode": [texts], "chunk": characters (optional)}.
// The page's own core script and data are taken from the HTML, so what is tested
// is exactly what the browser runs.
"use strict";
const fs = require("fs");

const [pagePath, requestPath] = process.argv.slice(2);
const html = fs.readFileSync(pagePath, "utf8");

function scriptText(id) {
  const match = html.match(new RegExp(`<script[^>]*id="${id}"[^>]*>([\\s\\S]*?)</script>`));
  if (!match) throw new Error(`${pagePath} has no script ${id}`);
  return match[1];
}

const data = JSON.parse(scriptText("rnnlab-data"));
const RnnlabCore = new Function(`${scriptText("rnnlab-core")}\nreturn RnnlabCore;`)();
const request = JSON.parse(fs.readFileSync(requestPath, "utf8"));

function encodeAndRun(model, text) {
  const started = performance.now();
  const encoded = model.encode(text, request.chunk);
  const { probability, probabilities } = model.run(encoded.ids);
  return {
    milliseconds: performance.now() - started,
    ids: encoded.ids,
    tokens: encoded.steps.map((step) => step.token),
    probability,
    probabilities,
    formatted: RnnlabCore.format4(probability),
    moves: probabilities && RnnlabCore.strongestMoves(encoded.steps, probabilities),
    cutBefore: encoded.cutBefore,
    cutAfter: encoded.cutAfter,
    counts: encoded.counts,
  };
}

RnnlabCore.load(data).then((model) => {
  const answer = {};
  if (request.tokenize) answer.tokenize = request.tokenize.map((text) => model.tokenize(text));
  if (request.encode) answer.encode = request.encode.map((text) => encodeAndRun(model, text));
  process.stdout.write(JSON.stringify(answer));
});
