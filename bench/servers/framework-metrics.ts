// The framework's bench server with Prometheus metrics on (framework.ts reads which from the script's name).
import './framework';
