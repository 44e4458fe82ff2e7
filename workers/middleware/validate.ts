import { validator } from "hono/validator";
import type * as z from "zod";
import { issueDetails } from "../../schema/issues.ts";
import { apiError } from "../errors.ts";

/** Query-string validation with the route's zod schema; failures become one 400 with every path. */
export const validQuery = <T extends z.ZodType>(schema: T) =>
  validator("query", (value): z.infer<T> => {
    const result = schema.safeParse(value);
    if (!result.success) throw apiError("invalid_query", "invalid query parameters", issueDetails(result.error));
    return result.data;
  });
