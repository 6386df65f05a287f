/**
 * A problem found in a dataset: which file, which field in it, what is wrong. Every loader reports
 * through a ProblemLog instead of throwing, so the valid rest of a dataset still loads and nothing is
 * dropped silently. Repeats of one kind of problem in one file are capped (a broken scene_gt.json with
 * 5,000 bad poses gives 20 lines and a count, not 5,000 lines).
 */
export interface Problem {
  /** Path inside the dataset source ('/'-separated), or the source's own label for whole-source problems. */
  file: string;
  /** The field, key or part of the file ('scene_gt.json' key "3"[0].cam_R_m2c, 'element face', 'path'). */
  field: string;
  message: string;
}

export function problemLine(p: Problem): string {
  return p.field ? `${p.file}: ${p.field}: ${p.message}` : `${p.file}: ${p.message}`;
}

const kDefaultRepeatsShown = 20;

export class ProblemLog {
  readonly problems: Problem[] = [];
  private readonly counts = new Map<string, { shown: number; hidden: number; file: string; kind: string }>();

  constructor(private readonly repeatsShown = kDefaultRepeatsShown) {}

  /** kind groups repeats (defaults to the message); past repeatsShown of one kind in one file, only a count is kept. */
  add(file: string, field: string, message: string, kind = message): void {
    const key = `${file}\u0000${kind}`;
    let c = this.counts.get(key);
    if (!c) this.counts.set(key, (c = { shown: 0, hidden: 0, file, kind }));
    if (c.shown < this.repeatsShown) {
      c.shown++;
      this.problems.push({ file, field, message });
    } else {
      c.hidden++;
    }
  }

  addAll(problems: readonly Problem[]): void {
    for (const p of problems) this.add(p.file, p.field, p.message);
  }

  /** The problems, with one closing line per capped kind saying how many more there were. */
  list(): Problem[] {
    const out = [...this.problems];
    for (const c of this.counts.values()) {
      if (c.hidden > 0) out.push({ file: c.file, field: '', message: `${c.hidden} more like "${c.kind}" not listed` });
    }
    return out;
  }
}

/** Lists up to n items then "… (N in all)", for messages that summarise many ids. */
export function listSome(items: readonly (string | number)[], n = 5): string {
  const head = items.slice(0, n).join(', ');
  return items.length > n ? `${head}, … (${items.length} in all)` : head;
}
