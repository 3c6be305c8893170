// The code editor: a textarea over a highlighted copy of its text, with a line-number gutter,
// the current line, and a marked line for errors. The textarea stays the source of truth (native
// selection, undo, IME, mobile keyboards); the layers behind it follow its scroll.

import { highlight } from "./highlight.js";

const INDENT = "  ";

export class Editor {
  constructor(root, { onChange, onRun, onSave } = {}) {
    this.root = root;
    this.textarea = root.querySelector("textarea");
    this.gutter = root.querySelector(".gutter-inner");
    this.layer = root.querySelector(".code-layer-inner");
    this.pre = root.querySelector("pre.highlight");
    this.activeLine = root.querySelector(".line-active");
    this.markLine = root.querySelector(".line-mark");
    this.onChange = onChange;
    this.onRun = onRun;
    this.onSave = onSave;
    this.onCursor = null;
    this.lines = 0;
    this.marked = null;
    this.escaped = false;
    this.frame = 0;

    this.textarea.addEventListener("input", () => {
      this.clearMark();
      this.scheduleRender();
      this.onChange?.(this.value);
    });
    this.textarea.addEventListener("scroll", () => this.syncScroll());
    this.textarea.addEventListener("keydown", (event) => this.keydown(event));
    for (const type of ["keyup", "click", "focus", "select"]) {
      this.textarea.addEventListener(type, () => this.updateCursor());
    }
    document.addEventListener("selectionchange", () => {
      if (document.activeElement === this.textarea) this.updateCursor();
    });
    this.textarea.addEventListener("focus", () => root.classList.add("focused"));
    this.textarea.addEventListener("blur", () => root.classList.remove("focused"));
    new ResizeObserver(() => this.syncScroll()).observe(this.textarea);
  }

  get value() {
    return this.textarea.value;
  }

  set value(code) {
    this.textarea.value = code;
    this.clearMark();
    this.render();
    this.textarea.scrollTop = 0;
    this.textarea.scrollLeft = 0;
    this.textarea.setSelectionRange(0, 0);
    this.updateCursor();
  }

  get lineHeight() {
    return parseFloat(getComputedStyle(this.textarea).lineHeight) || 20;
  }

  get padTop() {
    return parseFloat(getComputedStyle(this.textarea).paddingTop) || 0;
  }

  scheduleRender() {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    const code = this.textarea.value;
    // A trailing newline needs a character after it, or the last empty line has no height.
    this.pre.replaceChildren(highlight(code), "\n");
    const lines = code.split("\n").length;
    if (lines !== this.lines) {
      const fragment = document.createDocumentFragment();
      for (let i = this.lines + 1; i <= lines; i++) {
        const div = document.createElement("div");
        div.textContent = String(i);
        fragment.append(div);
      }
      if (lines > this.lines) this.gutter.append(fragment);
      else while (this.gutter.childElementCount > lines) this.gutter.lastElementChild.remove();
      this.lines = lines;
      this.root.style.setProperty("--gutter-chars", String(Math.max(2, String(lines).length)));
    }
    this.syncScroll();
    this.updateCursor();
  }

  syncScroll() {
    const { scrollTop, scrollLeft } = this.textarea;
    this.layer.style.transform = `translate(${-scrollLeft}px, ${-scrollTop}px)`;
    this.gutter.style.transform = `translateY(${-scrollTop}px)`;
  }

  cursor() {
    const pos = this.textarea.selectionStart;
    const before = this.textarea.value.slice(0, pos);
    const line = before.split("\n").length;
    const column = pos - before.lastIndexOf("\n");
    return { line, column };
  }

  updateCursor() {
    const { line, column } = this.cursor();
    this.activeLine.style.top = `${this.padTop + (line - 1) * this.lineHeight}px`;
    if (this.currentLine !== line) {
      this.gutter.children[this.currentLine - 1]?.classList.remove("current");
      this.gutter.children[line - 1]?.classList.add("current");
      this.currentLine = line;
    }
    this.onCursor?.(line, column);
  }

  offsetOf(line, column = 1) {
    const lines = this.textarea.value.split("\n");
    const target = Math.min(Math.max(1, line), lines.length);
    let offset = 0;
    for (let i = 0; i < target - 1; i++) offset += lines[i].length + 1;
    return offset + Math.min(Math.max(0, column - 1), lines[target - 1].length);
  }

  /** Put the caret at line:column (1-based) and scroll it into view. */
  goTo(line, column = 1, { focus = true } = {}) {
    const offset = this.offsetOf(line, column);
    if (focus) this.textarea.focus({ preventScroll: true });
    this.textarea.setSelectionRange(offset, offset);
    const top = this.padTop + (line - 1) * this.lineHeight;
    const view = this.textarea.clientHeight;
    if (top < this.textarea.scrollTop || top > this.textarea.scrollTop + view - this.lineHeight * 2) {
      this.textarea.scrollTop = Math.max(0, top - view / 3);
    }
    this.updateCursor();
  }

  /** Highlight one line: kind "syntax" (deploy refused) or "runtime" (where a run threw). */
  mark(line, kind = "syntax") {
    this.clearMark();
    if (!Number.isInteger(line) || line < 1 || line > this.lines) return;
    this.marked = line;
    this.markLine.hidden = false;
    this.markLine.dataset.kind = kind;
    this.markLine.style.top = `${this.padTop + (line - 1) * this.lineHeight}px`;
    const number = this.gutter.children[line - 1];
    number?.classList.add("marked");
    if (number) number.dataset.kind = kind;
  }

  clearMark() {
    if (this.marked === null) return;
    this.gutter.children[this.marked - 1]?.classList.remove("marked");
    this.markLine.hidden = true;
    this.marked = null;
  }

  /** Insert text at the selection, keeping the browser's undo history when it can. */
  insert(text) {
    this.textarea.focus();
    if (!document.execCommand?.("insertText", false, text)) {
      this.textarea.setRangeText(text, this.textarea.selectionStart, this.textarea.selectionEnd, "end");
      this.textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  keydown(event) {
    const mod = event.ctrlKey || event.metaKey;
    if (mod && event.key === "Enter") {
      event.preventDefault();
      this.onRun?.();
      return;
    }
    if (mod && (event.key === "s" || event.key === "S")) {
      event.preventDefault();
      this.onSave?.();
      return;
    }
    if (event.key === "Escape") {
      // Lets keyboard users leave the editor: the next Tab moves focus instead of indenting.
      this.escaped = true;
      return;
    }
    if (event.key === "Tab" && !mod && !event.altKey) {
      if (this.escaped) {
        this.escaped = false;
        return;
      }
      event.preventDefault();
      this.indent(event.shiftKey);
      return;
    }
    this.escaped = false;
    if (event.key === "Enter" && !mod && !event.shiftKey && !event.altKey && !event.isComposing) {
      event.preventDefault();
      this.newline();
    }
  }

  newline() {
    const { value, selectionStart } = this.textarea;
    const lineStart = value.lastIndexOf("\n", selectionStart - 1) + 1;
    const line = value.slice(lineStart, selectionStart);
    let indent = line.match(/^[ \t]*/)[0];
    if (/[{[(]\s*$/.test(line)) indent += INDENT;
    this.insert(`\n${indent}`);
  }

  indent(outdent) {
    const ta = this.textarea;
    const { value, selectionStart: start, selectionEnd: end } = ta;
    const multiline = value.slice(start, end).includes("\n");
    if (!outdent && !multiline) {
      const column = start - (value.lastIndexOf("\n", start - 1) + 1);
      this.insert(" ".repeat(INDENT.length - (column % INDENT.length)));
      return;
    }
    const blockStart = value.lastIndexOf("\n", start - 1) + 1;
    const endForBlock = end > start && value[end - 1] === "\n" ? end - 1 : end;
    let blockEnd = value.indexOf("\n", endForBlock);
    if (blockEnd === -1) blockEnd = value.length;
    const lines = value.slice(blockStart, blockEnd).split("\n");
    let firstDelta = 0;
    const changed = lines.map((line, i) => {
      if (!outdent) {
        if (i === 0) firstDelta = INDENT.length;
        return INDENT + line;
      }
      const remove = line.match(/^ {0,2}/)[0].length || (line.startsWith("\t") ? 1 : 0);
      if (i === 0) firstDelta = -remove;
      return line.slice(remove);
    });
    const replacement = changed.join("\n");
    ta.setSelectionRange(blockStart, blockEnd);
    this.insert(replacement);
    const newStart = Math.max(blockStart, start + firstDelta);
    ta.setSelectionRange(multiline ? blockStart : newStart, multiline ? blockStart + replacement.length : newStart);
    this.updateCursor();
  }
}
