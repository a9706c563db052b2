def main():
    import pandas as pd
    df = pd.DataFrame({"test": [1, 2, 3]})
    print("DataFrame created successfully")
    return {"status": "success", "data": df.to_dict()}
