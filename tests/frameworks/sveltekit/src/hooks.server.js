export async function handle({ event, resolve }) {
	event.locals.user = event.cookies.get('user') ?? 'guest';
	const response = await resolve(event);
	response.headers.set('x-hooks', 'sveltekit');
	return response;
}
