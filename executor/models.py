# Exchange accounts and the paper exchange land with the executor issue.
