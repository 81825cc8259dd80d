/**
 * Text fitted to a width without losing characters or colour: word wrap for table cells (render/table.ts) and
 * for the lines of human output (BaseCommand.emit). Apart from table.ts so that fitting text does not load
 * cli-table3.
 */
/** A visible character and the SGR codes open at it (`open`: the escapes that turn them on, '' for none). */
interface Styled {
  ch: string;
  open: string;
}

/** The code that closes each opening SGR code (ours come from render/color.ts; 0 closes all). */
function closes(close: number, open: number): boolean {
  if (close === 39) return (open >= 30 && open <= 38) || (open >= 90 && open <= 97);
  if (close === 49) return (open >= 40 && open <= 48) || (open >= 100 && open <= 107);
  if (close === 22) return open === 1 || open === 2;
  return close >= 23 && close <= 29 && open === close - 20;
}

/** Splits a cell into visible characters, each with the colour open at it. */
function styledChars(text: string): Styled[] {
  const out: Styled[] = [];
  let open: string[] = [];
  // eslint-disable-next-line no-control-regex
  for (const m of text.matchAll(/\u001b\[([0-9;]*)m|[^\u001b]+|\u001b/gu)) {
    if (m[1] === undefined) {
      const o = open.map((code) => `\u001b[${code}m`).join('');
      for (const ch of m[0]) out.push({ ch, open: o });
      continue;
    }
    const first = Number(m[1].split(';')[0] || 0);
    if (first === 0) open = [];
    else if ([22, 23, 24, 27, 28, 29, 39, 49].includes(first))
      open = open.filter((code) => !closes(first, Number(code.split(';')[0])));
    else open.push(m[1]);
  }
  return out;
}

/** Styled characters back to a string whose colour is closed at its end (a line of a table stands alone). */
function renderStyled(chars: readonly Styled[]): string {
  let s = '';
  let open = '';
  for (const { ch, open: o } of chars) {
    if (o !== open) {
      if (open) s += '\u001b[0m';
      s += o;
      open = o;
    }
    s += ch;
  }
  return open ? `${s}\u001b[0m` : s;
}

const BREAK_AFTER = new Set(['/', '=', ',', '-', '.', ':', ';']);

/**
 * The longest piece wrapText keeps whole in `text` (a word, or the part of one between the punctuation it breaks
 * after): a column narrower than this breaks a name inside.
 */
export function longestPiece(text: string): number {
  let longest = 0;
  let run = 0;
  for (const ch of text) {
    if (/\s/.test(ch)) run = 0;
    else {
      run++;
      if (run > longest) longest = run;
      if (BREAK_AFTER.has(ch)) run = 0;
    }
  }
  return longest;
}

/**
 * Greedy word wrap to `width` columns (a word longer than that is cut into pieces, after punctuation where it can). Colour survives: each
 * line reopens the colour open at its first character and closes it at its end.
 */
export function wrapText(text: string, width: number): string[] {
  const lines: Styled[][] = [];
  let line: Styled[] = [];
  const words: Styled[][] = [[]];
  for (const sc of styledChars(text)) {
    if (/\s/.test(sc.ch)) {
      if (words[words.length - 1]!.length) words.push([]);
    } else words[words.length - 1]!.push(sc);
  }
  for (let word of words.filter((w) => w.length)) {
    while (word.length > width) {
      if (line.length) lines.push(line);
      // after the last punctuation that fits (route-reflector=|true, BGPPeer/|peer-with-|...), else at the width
      let cut = width;
      for (let i = width - 1; i > 0; i--)
        if (BREAK_AFTER.has(word[i]!.ch)) {
          cut = i + 1;
          break;
        }
      lines.push(word.slice(0, cut));
      word = word.slice(cut);
      line = [];
    }
    if (!line.length) line = word;
    else if (line.length + 1 + word.length <= width) {
      // the space between two words of one colour keeps it (no close and reopen around it)
      const before = line[line.length - 1]!.open;
      line = [...line, { ch: ' ', open: before === word[0]!.open ? before : '' }, ...word];
    } else {
      lines.push(line);
      line = word;
    }
  }
  if (line.length || !lines.length) lines.push(line);
  return lines.map(renderStyled);
}

/**
 * Where the continuation lines of a long line start: after a short label and its run of two or more spaces
 * (`CALICO   v3.31.3 …`, `VERIFICATION  ✔ …`, a table's first column); else after a `key: ` (`    fix: …`)
 * within the first half of the width; else four columns in from the line's own indent (a finding's message,
 * under its `fix:`).
 */
function hangOf(plain: string, width: number): number {
  const indent = plain.length - plain.trimStart().length;
  const label = /^\s*\S.*?\S? {2,}(?=\S)/u.exec(plain);
  if (label && [...label[0]].length <= 16) return [...label[0]].length;
  const key = /^\s*[\w-]+: (?=\S)/u.exec(plain);
  if (key && key[0].length <= width / 2) return key[0].length;
  return Math.min(indent + 4, Math.floor(width / 2));
}

/**
 * Human output fitted to a terminal `width` columns wide: each line wider than that is wrapped at spaces, its
 * continuation lines indented under the text after its label (so a finding's message, a `fix:` or a `CALICO`
 * line stays readable and no word is broken by the terminal). Lines within the width are left alone.
 */
export function fitText(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((line) => {
      const chars = styledChars(line);
      if (chars.length <= width) return [line];
      const hang = hangOf(chars.map((x) => x.ch).join(''), width);
      // the first line as written (its label's spacing kept), up to the last space within the width
      const space = (i: number): boolean => /\s/.test(chars[i]?.ch ?? ' ');
      let cut = width;
      for (let i = width; i > hang; i--)
        if (space(i) && !space(i - 1)) {
          cut = i;
          break;
        }
      const rest = wrapText(renderStyled(chars.slice(cut)), width - hang);
      return [
        renderStyled(chars.slice(0, cut)).trimEnd(),
        ...rest.filter((l) => l).map((l) => `${' '.repeat(hang)}${l}`),
      ];
    })
    .join('\n');
}
