// A small Lua syntax highlighter: source text -> HTML with <span class="t-..."> tokens.
// It follows the Lua 5.1 lexer closely enough for colouring: long brackets
// ([[...]], [==[...]==]) for strings and comments, escapes in quoted strings, hex
// numbers and exponents. Unterminated constructs run to the end of the text, as the
// lexer would report them.

const KEYWORDS = new Set([
  "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
  "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
]);
const CONSTANTS = new Set(["true", "false", "nil"]);
const BUILTINS = new Set([
  "assert", "collectgarbage", "dofile", "error", "getfenv", "getmetatable", "ipairs", "load",
  "loadfile", "loadstring", "module", "next", "pairs", "pcall", "print", "rawequal", "rawget",
  "rawlen", "rawset", "require", "select", "setfenv", "setmetatable", "tonumber", "tostring",
  "type", "unpack", "xpcall", "_G", "_VERSION", "self",
  "bit", "coroutine", "debug", "io", "jit", "math", "os", "package", "string", "table",
]);

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;" };
export function escapeHtml(s) {
  return s.replace(/[&<>]/g, (c) => ESC[c]);
}

// Length of the long bracket opening at i ("[[", "[=[", ...), or 0.
function longOpen(src, i) {
  if (src[i] !== "[") return 0;
  let j = i + 1;
  while (src[j] === "=") j++;
  return src[j] === "[" ? j - i + 1 : 0;
}

// Index just past the matching long bracket close, or the end of the text.
function longClose(src, i, level) {
  const close = "]" + "=".repeat(level) + "]";
  const k = src.indexOf(close, i);
  return k < 0 ? src.length : k + close.length;
}

// Splits Lua source into [kind, text] tokens. Kinds: comment, string, number,
// keyword, constant, builtin, name, op, space.
export function tokenize(src) {
  const out = [];
  let i = 0;
  const n = src.length;
  const push = (kind, j) => {
    out.push([kind, src.slice(i, j)]);
    i = j;
  };
  while (i < n) {
    const c = src[i];
    if (c === "-" && src[i + 1] === "-") {
      const lo = longOpen(src, i + 2);
      if (lo) push("comment", longClose(src, i + 2 + lo, lo - 2));
      else {
        const e = src.indexOf("\n", i);
        push("comment", e < 0 ? n : e);
      }
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      push("string", Math.min(n, j + 1));
    } else if (c === "[" && longOpen(src, i)) {
      const lo = longOpen(src, i);
      push("string", longClose(src, i + lo, lo - 2));
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] || ""))) {
      const m = /^(0[xX][0-9a-fA-F]*(\.[0-9a-fA-F]*)?([pP][+-]?[0-9]+)?|[0-9]*\.?[0-9]*([eE][+-]?[0-9]+)?)/.exec(src.slice(i, i + 64));
      push("number", i + Math.max(1, m[0].length));
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j])) j++;
      const w = src.slice(i, j);
      const prev = out.length ? out[out.length - 1][1] : "";
      // A name after "." or ":" is a field, not a global.
      const field = prev.endsWith(".") && !prev.endsWith("..") || prev === ":";
      push(CONSTANTS.has(w) ? "constant" : KEYWORDS.has(w) ? "keyword" : !field && BUILTINS.has(w) ? "builtin" : "name", j);
    } else if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(src[j])) j++;
      push("space", j);
    } else {
      const three = src.slice(i, i + 3);
      const two = src.slice(i, i + 2);
      if (three === "...") push("op", i + 3);
      else if (["==", "~=", "<=", ">=", "..", "::", "//", ">>", "<<"].includes(two)) push("op", i + 2);
      else push("op", i + 1);
    }
  }
  return out;
}

export function highlight(src) {
  let html = "";
  for (const [kind, text] of tokenize(src)) {
    html += kind === "space" || kind === "name" ? escapeHtml(text) : `<span class="t-${kind}">${escapeHtml(text)}</span>`;
  }
  // A trailing newline needs a character after it, or the <pre> is a line short.
  return html + "\n";
}
