/**
 * skaffold.yaml: each artifact builds the `dev` stage of an existing Dockerfile, a Deployment runs
 * its image, file sync lands the sources where the dev stage's watcher reads them, and the
 * manifests it deploys are exactly infra/k8s. (Checked structurally: the tests do not need the
 * skaffold schema or binary.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { posix } from 'node:path';
import { effectiveSetting, parseStages, SERVICE_DOCKERFILE, stageNamed, withBuildArgs } from './dockerfile';
import { matchesGlob } from './glob';
import { BUILT_IMAGES, imageOf, manifestFiles, named, ofKind, parseYamlDocuments, readRepoFile, ROOT, SERVICES } from './manifests';

interface SyncRule {
  src?: string;
  dest?: string;
  strip?: string;
}
interface Artifact {
  image?: string;
  context?: string;
  docker?: { dockerfile?: string; target?: string; buildArgs?: Record<string, string> };
  sync?: { manual?: SyncRule[] };
}
interface SkaffoldConfig {
  apiVersion?: string;
  kind?: string;
  build?: { local?: { push?: boolean }; artifacts?: Artifact[] };
  manifests?: { rawYaml?: string[] };
  deploy?: { kubectl?: object };
}

const documents = parseYamlDocuments('skaffold.yaml');
const config = (documents[0]?.doc ?? {}) as SkaffoldConfig;
const artifacts = config.build?.artifacts ?? [];

describe('skaffold.yaml', () => {
  it('is one skaffold v2 config (schema skaffold/v4beta11 or later)', () => {
    expect(documents).toHaveLength(1);
    expect(config.apiVersion).toMatch(/^skaffold\/v4beta(1[1-9]|[2-9]\d)$|^skaffold\/v[5-9]/);
    expect(config.kind).toBe('Config');
  });

  it('builds locally without pushing', () => {
    expect(config.build?.local?.push).toBe(false);
  });

  it('builds one image per service, and the web app', () => {
    expect(artifacts.map((a) => a.image).sort()).toEqual([...BUILT_IMAGES].sort());
  });

  it('deploys every manifest in infra/k8s with kubectl, and nothing else', () => {
    const globs = config.manifests?.rawYaml ?? [];
    const files = manifestFiles();
    expect(files.filter((file) => !globs.some((glob) => matchesGlob(file, glob)))).toEqual([]);
    for (const glob of globs) expect({ glob, matches: files.some((file) => matchesGlob(file, glob)) }).toEqual({ glob, matches: true });
    expect(config.deploy?.kubectl).toBeDefined();
  });

  describe.each(SERVICES)('artifact for %s', (service) => {
    const artifact = artifacts.find((a) => a.image === imageOf(service));
    const context = artifact?.context ?? '.';
    const dockerfile = artifact?.docker?.dockerfile ?? 'Dockerfile';

    /** The Dockerfile as this artifact builds it: with its build arguments expanded. */
    const built = () => withBuildArgs(readRepoFile(join(context, dockerfile)), artifact?.docker?.buildArgs ?? {});

    it(`builds the dev stage of ${SERVICE_DOCKERFILE} with SERVICE=${service} and the repository root as context`, () => {
      expect(artifact).toBeDefined();
      expect(context).toBe('.');
      expect(dockerfile).toBe(SERVICE_DOCKERFILE);
      expect(artifact?.docker?.buildArgs).toEqual({ SERVICE: service });
      expect(existsSync(join(ROOT, context, dockerfile))).toBe(true);
      const target = artifact?.docker?.target;
      expect(target).toBe('dev');
      expect(stageNamed(parseStages(built()), target ?? '')).toBeDefined();
    });

    it('is the image of a Deployment', () => {
      const deployment = named(ofKind('Deployment'), service, 'Deployment');
      const images = (deployment.spec?.template.spec?.containers ?? []).map((c) => c.image);
      expect(images).toContain(imageOf(service));
    });

    it(`syncs the ${service} and common sources into the dev container's /app, keeping their paths`, () => {
      const rules = artifact?.sync?.manual ?? [];
      const sources = rules.map((r) => r.src);
      expect(sources).toEqual(expect.arrayContaining([`${service}/src/**/*.ts`, 'common/src/**/*.ts']));
      const stages = parseStages(built());
      const dev = stageNamed(stages, artifact?.docker?.target ?? '');
      if (!dev) throw new Error('no target stage');
      const workdir = effectiveSetting(stages, dev, 'WORKDIR') ?? '/';
      for (const rule of rules) {
        // A relative dest is resolved against the container's WORKDIR; without strip the paths are kept.
        expect({ src: rule.src, dest: posix.resolve(workdir, rule.dest ?? '.'), strip: rule.strip }).toEqual({
          src: rule.src,
          dest: '/app',
          strip: undefined,
        });
        expect(rule.src).toMatch(new RegExp(`^(${service}|common)/src/`));
      }
      // The image starts with the same trees that sync later updates.
      const copied = dev.instructions
        .filter((i) => i.keyword === 'COPY')
        .map((i) => i.args.split(/\s+/).filter((w) => !w.startsWith('--')));
      for (const tree of [`${service}/src`, 'common/src']) {
        expect(copied).toContainEqual([tree, tree]);
      }
    });
  });
});
