import kafkajs, { type PartitionAssigner } from 'kafkajs';

const { AssignerProtocol, PartitionAssigners } = kafkajs;

/** Name of the protocol in the group; every member must know it for the group to use it. */
export const COPARTITIONED_ASSIGNER = 'PullrepCoPartitioned';

/**
 * Which member gets partition number `p` of every topic: the members sorted by id, `p` modulo
 * their number. Pure, so the rule is tested on its own: the same `p` of every topic always goes
 * to one member.
 */
export function coPartitionedAssignment(memberIds: readonly string[], partitionsByTopic: ReadonlyMap<string, readonly number[]>): Map<string, Record<string, number[]>> {
  const members = [...memberIds].sort();
  const result = new Map<string, Record<string, number[]>>(members.map((m) => [m, {}]));
  if (members.length === 0) return result;
  for (const [topic, partitions] of partitionsByTopic) {
    for (const p of [...partitions].sort((a, b) => a - b)) {
      const member = members[p % members.length] ?? '';
      const mine = result.get(member);
      if (!mine) continue;
      (mine[topic] ??= []).push(p);
    }
  }
  return result;
}

/**
 * A kafkajs partition assigner that gives partition `p` of the events topic and of every retry
 * stage to the same member, so that one repository (whose events keep their partition down the
 * ladder) is synced by one process of a replica at a time. kafkajs's round-robin spreads the
 * topics' partitions as one list, which splits `events[p]` and `retry.n[p]` whenever the number
 * of partitions is not a multiple of the number of members.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: COPARTITIONED_ASSIGNER,
  version: 0,
  async assign({ members, topics }) {
    const partitions = new Map<string, number[]>(topics.map((topic) => [topic, cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId)]));
    const assignment = coPartitionedAssignment(
      members.map((m) => m.memberId),
      partitions,
    );
    return [...assignment].map(([memberId, mine]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: mine, userData: Buffer.alloc(0) }),
    }));
  },
  protocol({ topics }) {
    return { name: COPARTITIONED_ASSIGNER, metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});

/**
 * The assigners a replica's consumer offers, preferred first. Round-robin stays second so that a
 * group still holding members of an older pullrep (which offer only it) keeps working during a
 * rolling upgrade; once every member offers the co-partitioned one, the group uses it.
 */
export const REPLICA_ASSIGNERS: PartitionAssigner[] = [coPartitionedAssigner, PartitionAssigners.roundRobin];
