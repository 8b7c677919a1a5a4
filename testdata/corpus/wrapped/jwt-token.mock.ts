/**
 * Test JWT token with no expiration date
 *
 * {
 *   "sub": "09b35f16-326a-4241-b2e8-957a9ecb67e9",
 *   "user_id": "a495f7c4-f32e-4ce1-a2a4-dfc934cb9771",
 *   "tenant_id": "0f70af4c-11f7-407a-b3e5-93c83f24a1ef",
 *   "iat": 1516239022
 * }
 */
export const token = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\
.eyJzdWIiOiIwOWIzNWYxNi0zMjZhLTQyNDEtYjJlOC05NTdhOWVjYjY3Z\
TkiLCJ1c2VyX2lkIjoiYTQ5NWY3YzQtZjMyZS00Y2UxLWEyYTQtZGZjOTM\
0Y2I5NzcxIiwidGVuYW50X2lkIjoiMGY3MGFmNGMtMTFmNy00MDdhLWIzZ\
TUtOTNjODNmMjRhMWVmIiwiaWF0IjoxNTE2MjM5MDIyfQ.Zy_eD9DV6zsm\
gFAUZXIA5L8SCyEZ4MIB84polwRG314`;
