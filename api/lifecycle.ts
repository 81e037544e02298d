import { WorkflowNotFoundError } from '@temporalio/client';
import { ApiError } from './errors';

/**
 * Sends a message to a secret's lifecycle workflow. A secret whose workflow has ended (retired,
 * or terminated by an operator) cannot take signals or updates: that is the caller's 409, not
 * the server's 500.
 */
export async function toLifecycle<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new ApiError(
        409,
        'ROT_ERR_NOT_RUNNING',
        'This secret’s lifecycle is not running (it may be retired)',
      );
    }
    throw err;
  }
}
