/** Names of one replica's ladder topics. Nothing here touches another replica's topics. */
export interface LadderTopics {
  events: string;
  /** retry[0] is stage 1. */
  retry: string[];
  failed: string;
}

export function ladderTopics(events: string, replica: string, stages: number): LadderTopics {
  return {
    events,
    retry: Array.from({ length: stages }, (_, i) => `${events}.${replica}.retry.${i + 1}`),
    failed: `${events}.${replica}.failed`,
  };
}

/** 0 for the events topic, n for retry stage n, undefined for any other topic. */
export function stageOf(topics: LadderTopics, topic: string): number | undefined {
  if (topic === topics.events) return 0;
  const index = topics.retry.indexOf(topic);
  return index >= 0 ? index + 1 : undefined;
}

/** The topics a replica consumes: the events topic, then its retry stages in order. */
export function consumedTopics(topics: LadderTopics): string[] {
  return [topics.events, ...topics.retry];
}

/** Every topic of a replica's ladder: the consumed ones and the failed topic. */
export function allTopics(topics: LadderTopics): string[] {
  return [...consumedTopics(topics), topics.failed];
}
