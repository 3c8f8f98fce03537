// Preloaded into a sample process (`--require`) so a test can ask what memory it really holds:
// on SIGUSR2 it collects garbage fully and writes one `live-memory {json}` line to stderr.
// RSS alone also counts garbage not collected yet and pages the allocator keeps.
const v8 = require('node:v8');
const vm = require('node:vm');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

process.on('SIGUSR2', () => {
  gc();
  gc();
  const { heapUsed, arrayBuffers, rss } = process.memoryUsage();
  process.stderr.write(`live-memory ${JSON.stringify({ heapUsed, arrayBuffers, rss })}\n`);
});
