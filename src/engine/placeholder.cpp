// The scheduler and step loop arrive with the serving-engine issue.
