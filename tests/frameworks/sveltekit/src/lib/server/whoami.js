import { getRequestEvent } from '$app/server';

// Reads the request after an await: SvelteKit finds it through AsyncLocalStorage.
export async function whoami() {
	await new Promise((resolve) => setTimeout(resolve, 1));
	const { locals, url } = getRequestEvent();
	return `${locals.user} at ${url.pathname}`;
}
