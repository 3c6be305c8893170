// The function `vortex init` creates: the first thing a new user sees in the editor.
export const EXAMPLE_FILENAME = "index.js";

export const EXAMPLE_CODE = `// index.js
console.log("🚀 Function starting...");

// Async operations work seamlessly
await new Promise(resolve => setTimeout(resolve, 100));

// Perform computation
const result = {
  message: "Hello from Vortex!",
  timestamp: new Date().toISOString(),
  computed: Array.from({ length: 5 }, (_, i) => i * i),
};

console.log("Result:", JSON.stringify(result, null, 2));

// Return data to the caller
Vortex.return(result);
`;
