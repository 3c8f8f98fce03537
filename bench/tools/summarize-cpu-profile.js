// Summarizes a V8 .cpuprofile by package and by function (self time): node bench/tools/summarize-cpu-profile.js <file>
const fs = require('fs');
const file = process.argv[2];
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = prof.timeDeltas;
let total = 0;
prof.samples.forEach((id, i) => {
  const d = dt[i] || 0;
  total += d;
  self.set(id, (self.get(id) || 0) + d);
});
const group = (url) => {
  if (!url) return '(native/idle/gc)';
  const m = url.match(/node_modules\/((@[^/]+\/)?[^/]+)/);
  if (m) return m[1];
  if (url.includes('/dist/lib/')) return 'nestjs-grpc-framework';
  if (url.startsWith('node:')) return 'node core';
  return url
    .replace(/^file:\/\//, '')
    .split('/')
    .slice(-2)
    .join('/');
};
const byGroup = new Map();
const byFn = new Map();
for (const [id, t] of self) {
  const n = byId.get(id);
  const g = group(n.callFrame.url);
  byGroup.set(g, (byGroup.get(g) || 0) + t);
  const f = `${n.callFrame.functionName || '(anon)'} ${group(n.callFrame.url)}`;
  byFn.set(f, (byFn.get(f) || 0) + t);
}
const pct = (t) => ((100 * t) / total).toFixed(1) + '%';
console.log('by package');
[...byGroup]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 14)
  .forEach(([g, t]) => console.log(pct(t).padStart(7), g));
console.log('by function');
[...byFn]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 25)
  .forEach(([g, t]) => console.log(pct(t).padStart(7), g));
