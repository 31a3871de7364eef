// Activates the backend named by the project ("cpu" or "wasm") before each test file.
import { setBackend } from '@rnnkit/ops';

await setBackend(process.env.RNNKIT_BACKEND ?? 'cpu');
