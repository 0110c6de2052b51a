// Label selectors as the apiserver reads them: `k=v`, `k==v`, `k!=v`, `k`, `!k`,
// `k in (a,b)`, `k notin (a,b)`, joined by commas (AND).

export type LabelTest = (labels: Readonly<Record<string, string>>) => boolean;

export function parseLabelSelector(text: string | null | undefined): LabelTest {
  const terms: LabelTest[] = [];
  const source = (text ?? '').trim();
  let rest = source;
  while (rest.length > 0) {
    let m: RegExpExecArray | null;
    if ((m = /^\s*([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)\s*(,|$)/.exec(rest))) {
      const key = m[1]!;
      const values = new Set(m[3]!.split(',').map((v) => v.trim()).filter((v) => v !== ''));
      const negate = m[2] === 'notin';
      terms.push((l) => (negate ? !(key in l) || !values.has(l[key]!) : key in l && values.has(l[key]!)));
    } else if ((m = /^\s*([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)\s*(,|$)/.exec(rest))) {
      const key = m[1]!;
      const value = m[3]!;
      const negate = m[2] === '!=';
      terms.push((l) => (negate ? l[key] !== value : l[key] === value));
    } else if ((m = /^\s*(!?)([\w./-]+)\s*(,|$)/.exec(rest))) {
      const key = m[2]!;
      const negate = m[1] === '!';
      terms.push((l) => (negate ? !(key in l) : key in l));
    } else {
      throw new Error(`unable to parse requirement: ${JSON.stringify(rest)}`);
    }
    rest = rest.slice(m[0].length);
  }
  return (labels) => terms.every((t) => t(labels));
}
