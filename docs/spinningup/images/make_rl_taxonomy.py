"""Draw the taxonomy of RL algorithms shown in "Part 2: Kinds of RL Algorithms".

    python docs/spinningup/images/make_rl_taxonomy.py

writes rl_taxonomy.svg next to this file. The output is deterministic (no date, fixed ids), so
re-running it without changes leaves git with nothing to commit.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OUT = Path(__file__).resolve().parent / "rl_taxonomy.svg"

# name -> (x, y) of the box centre; the figure is 16 x 7.5 units
NODES = {
    "RL algorithms": (8.0, 7.0),
    "Model-free RL": (4.6, 5.6),
    "Model-based RL": (12.6, 5.6),
    "Policy optimisation": (1.6, 4.0),
    "Q-learning": (7.6, 4.0),
    "Learn the model": (10.9, 4.0),
    "Given the model": (14.4, 4.0),
}
EDGES = [
    ("RL algorithms", "Model-free RL"),
    ("RL algorithms", "Model-based RL"),
    ("Model-free RL", "Policy optimisation"),
    ("Model-free RL", "Q-learning"),
    ("Model-based RL", "Learn the model"),
    ("Model-based RL", "Given the model"),
]
# leaves: the algorithms under each family; the middle column sits between the two model-free ones
LEAVES = {
    "Policy optimisation": ["VPG", "TRPO", "PPO", "A2C / A3C"],
    "Q-learning": ["DQN", "C51", "QR-DQN", "HER"],
    "Learn the model": ["World Models", "I2A", "MBMF", "MBVE", "MuZero"],
    "Given the model": ["AlphaZero", "ExIt"],
}
BETWEEN = ["DDPG", "TD3", "SAC"]
BETWEEN_X = 4.6

HERE_COLOUR = "#d4ecd4"   # implemented in this package
OTHER_COLOUR = "#f2f2f2"
FAMILY_COLOUR = "#dce6f5"
IN_PACKAGE = {"VPG", "TRPO", "PPO", "DQN", "DDPG", "TD3", "SAC"}


def box(ax, x, y, text, colour, width=2.6, height=0.6, weight="normal"):
    ax.add_patch(plt.Rectangle((x - width / 2, y - height / 2), width, height, facecolor=colour,
                               edgecolor="#555555", linewidth=1.0, zorder=2))
    ax.text(x, y, text, ha="center", va="center", fontsize=11, weight=weight, zorder=3)


def line(ax, a, b, style="-"):
    ax.plot([a[0], b[0]], [a[1], b[1]], color="#777777", linewidth=1.0, linestyle=style, zorder=1)


def main():
    plt.rcParams["svg.fonttype"] = "none"      # keep text as text: small file, searchable, crisp
    plt.rcParams["svg.hashsalt"] = "spinup"    # stable element ids between runs
    plt.rcParams["font.family"] = "DejaVu Sans"
    fig, ax = plt.subplots(figsize=(12, 6.2))
    ax.set_xlim(0, 16)
    ax.set_ylim(-0.9, 7.5)
    ax.axis("off")

    for a, b in EDGES:
        (xa, ya), (xb, yb) = NODES[a], NODES[b]
        line(ax, (xa, ya - 0.3), (xb, yb + 0.3))
    for name, (x, y) in NODES.items():
        box(ax, x, y, name, FAMILY_COLOUR, width=3.0, weight="bold")

    for family, algos in LEAVES.items():
        x, y = NODES[family]
        for i, algo in enumerate(algos):
            ly = y - 0.9 - 0.75 * i
            line(ax, (x, ly + 0.75 - 0.3 if i else y - 0.3), (x, ly + 0.3))
            box(ax, x, ly, algo, HERE_COLOUR if algo in IN_PACKAGE else OTHER_COLOUR, width=2.2, height=0.5)

    # DDPG, TD3, SAC learn a policy and a Q-function: a dashed frame linked to both families
    top = NODES["Policy optimisation"][1] - 0.6
    for i, algo in enumerate(BETWEEN):
        box(ax, BETWEEN_X, top - 0.6 - 0.75 * i, algo, HERE_COLOUR, width=1.6, height=0.5)
    bottom = top - 0.6 - 0.75 * (len(BETWEEN) - 1) - 0.45
    ax.add_patch(plt.Rectangle((BETWEEN_X - 1.05, bottom), 2.1, top - bottom, facecolor="none",
                               edgecolor="#777777", linestyle="--", linewidth=1.0, zorder=1))
    po_x, po_y = NODES["Policy optimisation"]
    q_x, q_y = NODES["Q-learning"]
    line(ax, (po_x + 1.5, po_y - 0.3), (BETWEEN_X - 1.05, top), style="--")
    line(ax, (q_x - 1.5, q_y - 0.3), (BETWEEN_X + 1.05, top), style="--")

    ax.add_patch(plt.Rectangle((0.2, -0.75), 0.4, 0.3, facecolor=HERE_COLOUR, edgecolor="#555555"))
    ax.text(0.75, -0.6, "implemented in this package", va="center", fontsize=10)
    ax.text(5.2, -0.6, "dashed frame: methods that learn both a policy and a Q-function", va="center",
            fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT, format="svg", metadata={"Date": None})
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
