import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_SHUTDOWN_GRACE_MS } from '../../lib/common/constants';

const DEPLOY = path.join(__dirname, '..', '..', 'deploy');

interface Container {
  ports: { name: string; containerPort: number }[];
  readinessProbe: { grpc: { port: number } };
  livenessProbe: { grpc: { port: number } };
  lifecycle: { preStop: { exec: { command: string[] } } };
  resources: { requests: { cpu: string; memory: string } };
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
}

const manifests = parseAllDocuments(fs.readFileSync(path.join(DEPLOY, 'kubernetes.yaml'), 'utf8')).map((doc) => {
  expect(doc.errors).toEqual([]);
  return doc.toJS() as { kind: string; spec: Record<string, unknown> };
});
const deployment = manifests.find((m) => m.kind === 'Deployment')!.spec as {
  template: { spec: { terminationGracePeriodSeconds: number; containers: Container[] } };
};
const service = manifests.find((m) => m.kind === 'Service')!.spec as { clusterIP: string; ports: { port: number; targetPort: string }[] };
const dockerfile = fs.readFileSync(path.join(DEPLOY, 'Dockerfile'), 'utf8');
const command = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]) as string[];

describe('the deployment recipe (deploy/)', () => {
  const pod = deployment.template.spec;
  const container = pod.containers[0];
  const port = Number(command[command.indexOf('runserver') + 1].split(':')[1]);

  it('runs node itself as PID 1, without root, from a build with production dependencies only', () => {
    expect(command[0]).toBe('node');
    expect(command).toContain('runserver');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toContain('RUN npm ci --omit=dev');
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
  });

  it('probes grpc.health.v1 on the port the server listens on, and a headless Service routes to it', () => {
    expect(container.ports).toEqual([{ name: 'grpc', containerPort: port }]);
    expect(container.readinessProbe.grpc.port).toBe(port);
    expect(container.livenessProbe.grpc.port).toBe(port);
    expect(service.clusterIP).toBe('None');
    expect(service.ports).toEqual([{ name: 'grpc', port, targetPort: 'grpc' }]);
  });

  it('gives the pod time for preStop and the grace period before SIGKILL, the grace period being the server default', () => {
    const graceMs = Number(command[command.indexOf('--grace-period') + 1]);
    expect(graceMs).toBe(DEFAULT_SHUTDOWN_GRACE_MS);
    const [sleep, seconds] = container.lifecycle.preStop.exec.command;
    expect(sleep).toBe('sleep');
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(Number(seconds) + graceMs / 1000);
  });
});
