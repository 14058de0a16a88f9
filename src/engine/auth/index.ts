export { type AuthenticatedUser, authenticate } from './authenticate.js';
export { assertUserName, type EnrolOptions, enrolUser, USER_RE } from './enrol.js';
export { generateToken, hashToken } from './token.js';
