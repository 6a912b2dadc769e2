/* h_tree: the audit trail as a Merkle tree (auditors): signed tree heads,
 * inclusion and consistency proofs (docs/protocol.md, "Audit"). */
#ifndef MEDAID_H_TREE_H
#define MEDAID_H_TREE_H
#include "http/request.h"
/* the query parameters of the two proofs */
extern const char *const tree_inclusion_params[];
extern const char *const tree_consistency_params[];
void h_audit_tree_head_get(struct request *r);
void h_audit_tree_head_make(struct request *r);
void h_audit_proof_inclusion(struct request *r);
void h_audit_proof_consistency(struct request *r);
#endif
