// The framework's bench server with metrics and OpenTelemetry tracing on (framework.ts reads which from the script's name).
import './framework';
