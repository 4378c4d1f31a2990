"""The rule every slow learning check applies: up to three seeds, pass when two reach the target."""

SEEDS = [0, 1, 2]


def passes_on_two_of_three(best_return, algo_name, env_name, target):
    """``best_return(seed)`` trains one seed and returns its score; stop as soon as two seeds pass."""
    results = []
    for seed in SEEDS:
        results.append(best_return(seed) >= target)
        if sum(results) >= 2:
            return
    assert sum(results) >= 2, f"{algo_name} reached {target} on {env_name} for {sum(results)} of 3 seeds"
