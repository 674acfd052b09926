/** What every strategy returns: the chosen tag (or none, with why). */
export interface Selection {
  tag: string | undefined;
  /** Tags the strategy looked at (after allowTags/ignoreTags). */
  considered: number;
  reason: string;
}

/** `created` of the image behind a tag (the `newest` strategy's input). */
export interface TagCreated {
  tag: string;
  /** RFC 3339 time from the image config; undefined when absent or unreadable. */
  created?: string | undefined;
}
