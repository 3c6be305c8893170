export async function load({ platform, url, locals }) {
	return {
		greeting: platform?.env?.GREETING ?? 'no platform',
		name: url.searchParams.get('name') ?? locals.user
	};
}

export const actions = {
	default: async ({ request, cookies }) => {
		const data = await request.formData();
		const message = String(data.get('message'));
		cookies.set('user', message, { path: '/' });
		return { echoed: message.toUpperCase() };
	}
};
