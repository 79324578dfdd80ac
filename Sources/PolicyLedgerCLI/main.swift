print("policy-ledger")
