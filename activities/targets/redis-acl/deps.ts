/** One command to the target Redis, as the rotator; arguments travel as separate RESP strings. */
export interface RedisAdmin {
  call(command: string, ...args: string[]): Promise<unknown>;
}

/** How the Redis driver reaches one server: an admin session, and a consumer-style login. */
export interface RedisTargetDeps {
  /** Runs fn in one session logged in as the rotator, and closes it. */
  withAdmin<T>(fn: (admin: RedisAdmin) => Promise<T>): Promise<T>;
  /**
   * Logs in as user with password, as a consumer would (AUTH user password). Rejects with the
   * server's error (WRONGPASS…) or a connection error.
   */
  login(user: string, password: string): Promise<void>;
  /** The rotator's own user, which the driver never manages. */
  rotatorUser: string;
}
