export function load({ url }) {
	const ms = Number(url.searchParams.get('ms') ?? '300');
	return {
		now: 'at once',
		// not awaited: SvelteKit streams it after the page
		later: new Promise((resolve) => setTimeout(() => resolve('after ' + ms + ' ms'), ms))
	};
}
