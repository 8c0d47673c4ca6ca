// The code editor: a transparent <textarea> over a highlighted <pre>, with a line
// number gutter and an error-line marker. The textarea does the editing (undo, IME,
// selection, mobile keyboards); this file keeps the layers in step.

import { highlight } from "./highlight.js";

export class Editor {
  constructor({ textarea, pre, gutter, errline, onRun }) {
    this.ta = textarea;
    this.pre = pre;
    this.gutter = gutter;
    this.errline = errline;
    this.lines = 0;
    this.errorAt = null;
    this.ta.addEventListener("input", () => this.render());
    this.ta.addEventListener("scroll", () => this.sync());
    this.ta.addEventListener("keydown", (e) => this.keydown(e, onRun));
    new ResizeObserver(() => this.sync()).observe(this.ta);
  }

  get value() {
    return this.ta.value;
  }

  set value(v) {
    this.ta.value = v;
    this.ta.scrollTop = 0;
    this.ta.scrollLeft = 0;
    this.render();
  }

  render() {
    this.pre.innerHTML = highlight(this.ta.value);
    const n = this.ta.value.split("\n").length;
    if (n !== this.lines) {
      this.lines = n;
      let s = "";
      for (let i = 1; i <= n; i++) s += `<span data-line="${i}">${i}</span>\n`;
      this.gutter.innerHTML = s;
    }
    this.markError(null);
    this.sync();
  }

  sync() {
    const { scrollTop, scrollLeft } = this.ta;
    this.pre.style.transform = `translate(${-scrollLeft}px, ${-scrollTop}px)`;
    this.gutter.style.transform = `translateY(${-scrollTop}px)`;
    if (this.errorAt) this.placeError();
  }

  lineHeight() {
    return parseFloat(getComputedStyle(this.ta).lineHeight) || 20;
  }

  // Highlights line `line` (1-based) as the error line; null clears it.
  markError(line) {
    const prev = this.gutter.querySelector(".err");
    if (prev) prev.classList.remove("err");
    this.errorAt = line;
    if (!line) {
      this.errline.hidden = true;
      return;
    }
    const g = this.gutter.querySelector(`[data-line="${line}"]`);
    if (g) g.classList.add("err");
    this.errline.hidden = false;
    this.errline.dataset.line = String(line);
    this.placeError();
  }

  placeError() {
    const pad = parseFloat(getComputedStyle(this.ta).paddingTop) || 0;
    const top = pad + (this.errorAt - 1) * this.lineHeight() - this.ta.scrollTop;
    this.errline.style.transform = `translateY(${top}px)`;
    this.errline.style.height = `${this.lineHeight()}px`;
  }

  // Puts the caret on `line` and scrolls it into view.
  goTo(line) {
    const lines = this.ta.value.split("\n");
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    this.ta.focus();
    this.ta.setSelectionRange(pos, pos);
    const lh = this.lineHeight();
    const y = (line - 1) * lh;
    if (y < this.ta.scrollTop || y > this.ta.scrollTop + this.ta.clientHeight - 2 * lh) {
      this.ta.scrollTop = Math.max(0, y - this.ta.clientHeight / 3);
    }
  }

  keydown(e, onRun) {
    if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
      e.preventDefault();
      onRun();
      return;
    }
    const ta = this.ta;
    if (e.key === "Tab" && !e.altKey && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      const { selectionStart: s, selectionEnd: t, value: v } = ta;
      if (s === t && !e.shiftKey) {
        insert(ta, "  ");
      } else {
        // Indent or dedent the selected lines.
        const a = v.lastIndexOf("\n", s - 1) + 1;
        const block = v.slice(a, t);
        const changed = e.shiftKey ? block.replace(/^ {1,2}/gm, "") : block.replace(/^/gm, "  ");
        ta.setSelectionRange(a, t);
        insert(ta, changed);
        ta.setSelectionRange(a, a + changed.length);
      }
      this.render();
    } else if (e.key === "Enter" && !e.shiftKey) {
      // Keep the indentation of the current line.
      const { selectionStart: s, value: v } = ta;
      const a = v.lastIndexOf("\n", s - 1) + 1;
      const indent = /^[ \t]*/.exec(v.slice(a, s))[0];
      if (indent) {
        e.preventDefault();
        insert(ta, "\n" + indent);
        this.render();
      }
    }
  }
}

// Inserts text at the selection, keeping the textarea's undo history where the
// browser supports it.
function insert(ta, text) {
  ta.focus();
  if (!document.execCommand || !document.execCommand("insertText", false, text)) {
    ta.setRangeText(text, ta.selectionStart, ta.selectionEnd, "end");
  }
}
