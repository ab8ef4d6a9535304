"""Tools for people and pipelines, on top of the program: the engine driver, the rollout runner,
the offline render and its recording, promotion, the config reference."""
