import { error, json } from '@sveltejs/kit';

export async function GET({ params, url, request, platform }) {
	if (params.id === 'missing') error(404, 'No such item');
	return json({
		id: params.id,
		q: url.searchParams.get('q'),
		agent: request.headers.get('user-agent'),
		colo: typeof platform?.cf,
		waitUntil: typeof platform?.ctx?.waitUntil
	});
}

export async function POST({ params, request }) {
	const body = await request.json();
	return json({ id: params.id, received: body }, { status: 201 });
}
