/**
 * A small Dockerfile reader for the structural checks (stages, CMD, USER, COPY); linting itself
 * is dockerfile-utils' job. Handles comments, `\` line continuations and `FROM ... AS name`.
 */

export interface Instruction {
  keyword: string;
  args: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface Stage {
  /** The image or earlier stage this stage starts from. */
  from: string;
  name?: string;
  instructions: Instruction[];
}

export function parseInstructions(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Blank and comment lines are dropped, even inside a continuation, as Docker does.
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const continues = trimmed.endsWith('\\');
    const part = continues ? trimmed.slice(0, -1) : trimmed;
    pending = pending ? { text: `${pending.text} ${part}`, line: pending.line } : { text: part, line: index + 1 };
    if (continues) return;
    const [keyword, ...rest] = pending.text.trim().split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(' '), line: pending.line });
    pending = undefined;
  });
  return instructions;
}

export function parseStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of parseInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const words = instruction.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asIndex = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ from: words[0], name: asIndex >= 0 ? words[asIndex + 1] : undefined, instructions: [] });
    } else if (stages.length > 0) {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

export function stageNamed(stages: Stage[], name: string): Stage | undefined {
  return stages.find((s) => s.name === name);
}

/** The stage a stage is built on, when its FROM names an earlier stage rather than an image. */
function parentStage(stages: Stage[], stage: Stage): Stage | undefined {
  const index = stages.indexOf(stage);
  return stages.slice(0, index).find((s) => s.name === stage.from);
}

/** The external image at the bottom of a stage's FROM chain. */
export function baseImage(stages: Stage[], stage: Stage): string {
  const parent = parentStage(stages, stage);
  return parent ? baseImage(stages, parent) : stage.from;
}

/** The last value of an inherited setting (USER, WORKDIR) in effect at the end of a stage. */
export function effectiveSetting(stages: Stage[], stage: Stage, keyword: 'USER' | 'WORKDIR'): string | undefined {
  const own = stage.instructions.filter((i) => i.keyword === keyword).pop();
  if (own) return own.args;
  const parent = parentStage(stages, stage);
  return parent ? effectiveSetting(stages, parent, keyword) : undefined;
}

/** The effective CMD or ENTRYPOINT of a stage in exec (JSON array) form; undefined if absent or in shell form. */
export function execForm(stages: Stage[], stage: Stage, keyword: 'CMD' | 'ENTRYPOINT'): string[] | undefined {
  const own = stage.instructions.filter((i) => i.keyword === keyword).pop();
  if (!own) {
    const parent = parentStage(stages, stage);
    return parent ? execForm(stages, parent, keyword) : undefined;
  }
  if (!own.args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(own.args);
  return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string') ? parsed : undefined;
}

export function runCommands(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
}

/** The one Dockerfile of both services; the build argument SERVICE names the one to build. */
export const SERVICE_DOCKERFILE = 'Dockerfile';

/** A Dockerfile's text with build arguments expanded (`$NAME`, `${NAME}`), as `--build-arg` would. */
export function withBuildArgs(text: string, args: Record<string, string>): string {
  return text.replace(
    /\$\{(\w+)\}|\$(\w+)/g,
    (match, braced: string | undefined, bare: string | undefined) => args[braced ?? bare ?? ''] ?? match,
  );
}

/**
 * The environment (ENV) in effect at the end of a stage, inherited from the stages it is built on.
 * Reads `ENV KEY=value …` (values unquoted) and the legacy `ENV KEY value`.
 */
export function environment(stages: Stage[], stage: Stage): Record<string, string> {
  const parent = parentStage(stages, stage);
  const env = parent ? environment(stages, parent) : {};
  for (const { args } of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    if (!args.includes('=')) {
      const [name, ...value] = args.split(/\s+/);
      env[name] = value.join(' ');
      continue;
    }
    for (const pair of args.split(/\s+/)) {
      const [name, ...value] = pair.split('=');
      env[name] = value.join('=').replace(/^"(.*)"$/, '$1');
    }
  }
  return env;
}
