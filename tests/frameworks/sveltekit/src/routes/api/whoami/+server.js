import { json } from '@sveltejs/kit';
import { whoami } from '$lib/server/whoami';

export async function GET() {
	return json({ whoami: await whoami() });
}
