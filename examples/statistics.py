def main():
    import pandas as pd
    import numpy as np
    data = {"A": np.random.rand(5), "B": np.random.rand(5)}
    df = pd.DataFrame(data)
    result = df.describe().to_dict()
    return {"status": "success", "statistics": result}
