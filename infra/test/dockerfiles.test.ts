/**
 * The service images: one lint-clean Dockerfile (dockerfile-utils) for both services, built for
 * either with the build argument SERVICE; a production stage that runs the compiled service as a
 * non-root node process receiving signals itself, a `dev` stage for the skaffold loop, and a
 * .dockerignore that keeps host builds and installs out of the context.
 */
import { posix } from 'node:path';
import { validate } from 'dockerfile-utils';
import {
  baseImage,
  effectiveSetting,
  execForm,
  parseStages,
  runCommands,
  SERVICE_DOCKERFILE,
  stageNamed,
  withBuildArgs,
  type Stage,
} from './dockerfile';
import { dockerIgnores } from './glob';
import { readRepoFile, SERVICES } from './manifests';

// LSP DiagnosticSeverity values, as dockerfile-utils reports them.
const ERROR = 1;
const WARNING = 2;

const isRoot = (user: string | undefined): boolean => user === undefined || /^(root|0)(:.*)?$/.test(user);

describe(`${SERVICE_DOCKERFILE} (both services)`, () => {
  const text = readRepoFile(SERVICE_DOCKERFILE);

  it('has no lint errors or warnings', () => {
    const problems = validate(text)
      .filter((d) => d.severity === ERROR || d.severity === WARNING)
      .map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('takes the service as the build argument SERVICE and refuses a build that names no service of ours', () => {
    expect(text).toMatch(/^ARG SERVICE$/m);
    const check = runCommands(stageNamed(parseStages(text), 'manifests')!).find((run) => /\$SERVICE/.test(run)) ?? '';
    expect(check).toContain(`${SERVICES.join('|')})`);
    expect(check).toMatch(/exit 1/);
  });
});

describe.each(SERVICES)(`${SERVICE_DOCKERFILE} built with SERVICE=%s`, (service) => {
  const text = withBuildArgs(readRepoFile(SERVICE_DOCKERFILE), { SERVICE: service });
  const stages = parseStages(text);
  const production = stages[stages.length - 1];
  /** A path as the stage's process sees it: relative ones are resolved against its WORKDIR. */
  const inStage = (stage: Stage, path: string) => posix.resolve(effectiveSetting(stages, stage, 'WORKDIR') ?? '/', path);

  it('is multi-stage, on a pinned Node LTS image', () => {
    expect(stages.length).toBeGreaterThan(1);
    for (const stage of stages) {
      const image = baseImage(stages, stage);
      // node:<even major>.<minor>[.<patch>][-variant]: an LTS line, pinned at least to a minor.
      expect({
        stage: stage.name,
        image,
        pinned: /^node:\d*[02468]\.\d+(\.\d+)?(-[a-z0-9.-]+)?(@sha256:[a-f0-9]{64})?$/.test(image),
      }).toEqual({
        stage: stage.name,
        image,
        pinned: true,
      });
    }
  });

  it(`compiles ${service} and common with project references (tsc -b ${service})`, () => {
    const builds = stages.filter((s) => runCommands(s).some((run) => new RegExp(`\\btsc -b ${service}\\b`).test(run)));
    expect(builds.map((s) => s.name)).toHaveLength(1);
  });

  describe('production stage (the last one, built by default)', () => {
    const copies = production.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    const fromStage = (name: string | undefined): Stage | undefined => (name ? stageNamed(stages, name) : undefined);
    const copiedFrom = copies.map((args) => fromStage(/--from=(\S+)/.exec(args)?.[1])).filter((s): s is Stage => s !== undefined);

    it('runs node on the compiled entry point directly, in exec form (node is PID 1 and gets SIGTERM)', () => {
      const entrypoint = execForm(stages, production, 'ENTRYPOINT');
      const hasShellEntrypoint = production.instructions.some((i) => i.keyword === 'ENTRYPOINT') && entrypoint === undefined;
      expect(hasShellEntrypoint).toBe(false);
      // An init such as tini (ENTRYPOINT ["tini", "--"]) may sit in front; npm or a shell may not.
      const command = [...(entrypoint ?? []), ...(execForm(stages, production, 'CMD') ?? [])];
      const init = command.indexOf('--') >= 0 && /tini|dumb-init/.test(command[0] ?? '') ? command.indexOf('--') + 1 : 0;
      const [node, entry, ...rest] = command.slice(init);
      expect([node, inStage(production, entry ?? ''), ...rest]).toEqual(['node', `/app/${service}/dist/main.js`]);
    });

    it('runs as a non-root user', () => {
      expect(isRoot(effectiveSetting(stages, production, 'USER'))).toBe(false);
    });

    it(`copies the compiled ${service} and common from the stage that runs tsc`, () => {
      const compiled = copies.filter((args) => /--from=/.test(args)).map((args) => args.split(/\s+/).filter((w) => !w.startsWith('--'))[0]);
      expect(compiled).toEqual(
        expect.arrayContaining([expect.stringMatching(new RegExp(`${service}/dist$`)), expect.stringMatching(/common\/dist$/)]),
      );
      const tscStages = copiedFrom.filter((s) => runCommands(s).some((run) => /\btsc -b\b/.test(run)));
      expect(tscStages.length).toBeGreaterThan(0);
    });

    it('gets only production dependencies (npm ci --omit=dev) and installs nothing itself', () => {
      const depsStages = copiedFrom.filter((s) => runCommands(s).some((run) => /\bnpm ci\b.*--omit=dev/.test(run)));
      expect(depsStages.length).toBeGreaterThan(0);
      expect(runCommands(production).filter((run) => /\bnpm (ci|i|install)\b/.test(run))).toEqual([]);
    });
  });

  describe('dev stage (skaffold target)', () => {
    const dev = stageNamed(stages, 'dev');

    it('exists and is not the default target', () => {
      expect(dev).toBeDefined();
      expect(dev).not.toBe(production);
    });

    it(`watches and runs the TypeScript sources of ${service} (which skaffold syncs) as non-root`, () => {
      if (!dev) throw new Error('no dev stage');
      const command = execForm(stages, dev, 'CMD') ?? [];
      expect(command).toContain('watch');
      expect(inStage(dev, command[command.length - 1] ?? '')).toBe(`/app/${service}/src/main.ts`);
      expect(isRoot(effectiveSetting(stages, dev, 'USER'))).toBe(false);
    });
  });
});

describe('.dockerignore (the build context is the repository root)', () => {
  const dockerignore = readRepoFile('.dockerignore');

  it.each([
    'node_modules',
    'tickets/node_modules',
    'common/node_modules',
    'common/dist',
    'orders/dist',
    'tickets/tsconfig.tsbuildinfo',
    '.local',
    '.git',
    'coverage',
    'npm-debug.log',
  ])('keeps %s out of the context', (path) => {
    expect(dockerIgnores(dockerignore, path)).toBe(true);
  });

  it.each(['package.json', 'package-lock.json', 'tsconfig.base.json', 'common/src/index.ts', 'tickets/src/main.ts', 'orders/package.json'])(
    'keeps %s in the context',
    (path) => {
      expect(dockerIgnores(dockerignore, path)).toBe(false);
    },
  );
});
