-- Why a bare-metal allocation failed, node by node (allot's extension
-- GET /allot/v1/allocations/{allocation}/failure): the worker writes the
-- row, as JSON, in the transaction that puts the allocation in state
-- error. Rows of deleted allocations are pruned by the next write.
CREATE TABLE node_allocation_failures (
    allocation_id BIGINT PRIMARY KEY,
    failure TEXT NOT NULL
);
